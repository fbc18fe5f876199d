"""Quick start: build an expression, call .backward(), read the gradients.

The function is the chain-rule example from Ray's backpropagation slides (U. Alberta):

    f(x1, x2, x3, x4) = (x1 + 10 x2)^2 + 5 (x3 - x4)^2 + (x2 + 2 x3)^4 + 10 (x1 - x4)^4

at [3, -1, 0, 1], and then the same f with x computed from (z1, z2):

    x1 = z1 - z2,  x2 = z1^2,  x3 = z2^2,  x4 = z1^2 + z1 z2.

Run:  python examples/quickstart.py
"""

from autograd import Tensor


def f(x1, x2, x3, x4):
    return (x1 + 10 * x2) ** 2 + 5 * (x3 - x4) ** 2 + (x2 + 2 * x3) ** 4 + 10 * (x1 - x4) ** 4


def main() -> None:
    x = [Tensor(v, requires_grad=True, name=f"x{i + 1}") for i, v in enumerate([3.0, -1.0, 0.0, 1.0])]
    y = f(*x)
    y.backward()
    print(f"f(3, -1, 0, 1) = {y.item():g}")
    for xi in x:
        print(f"  df/d{xi.name} = {xi.grad.item():g}")
    print("  (by hand: 306, -144, -18, -310)")

    z1 = Tensor(1.0, requires_grad=True, name="z1")
    z2 = Tensor(2.0, requires_grad=True, name="z2")
    y = f(z1 - z2, z1**2, z2**2, z1**2 + z1 * z2)
    y.backward()
    print(f"\nf(x(z1, z2)) at z = (1, 2): {y.item():g}")
    print(f"  df/dz1 = {z1.grad.item():g}")
    print(f"  df/dz2 = {z2.grad.item():g}")
    print("  (the chain rule: df/dz = J_x(z)^T grad_x f, done for you by .backward())")


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Needs: chainrule only.").parse_args()
    main()
