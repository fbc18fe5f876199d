"""Tools for a backpropagation course, built on the recorded graph and the ops' own rules.

* ``check_gradients(J, answers)`` checks hand-derived gradients ∂J/∂node and says where
  the first mistake is, with the chain rule written out for it (``check.py``); its
  report draws itself with the verdicts (``check_drawing.py``);
* ``chain_rule_trace(J)`` writes the forward (primal) and reverse (adjoint) traces, as
  text, Markdown or LaTeX (``trace.py``);
* ``worksheet(seed, count)`` makes reproducible backprop exercises with answer keys and
  "find the bug" questions (``worksheet.py``);
* ``stepper(J)`` shows the step-by-step backpropagation page inside a Jupyter notebook,
  and ``drawing_mimebundle(graph)`` is how a drawing shows there (``notebook.py``).

The expected numbers come from replaying the engine's own backward rules on the
recorded values (``replay.py``), in the engine's order; nothing in the graph changes.
The rules' text comes from each op's ``rule`` attribute (``formula.py`` reads it).
``conventions="cmu-10601"`` uses the derivative a course defines at a kink (ReLU'(0) = 1,
CMU 10-601 homework 5) instead of the engine's (PyTorch's, 0), for the check and the
trace only.

The same from the command line: ``chainrule check`` and ``chainrule trace``.
"""

from autograd.teaching.check import AnswerCheck, GradientReport, check_gradients
from autograd.teaching.notebook import Stepper, drawing_mimebundle, stepper
from autograd.teaching.replay import CONVENTION_KEYS, CONVENTIONS
from autograd.teaching.trace import ChainRuleTrace, chain_rule_trace
from autograd.teaching.worksheet import Worksheet, worksheet

__all__ = [
    "check_gradients",
    "GradientReport",
    "AnswerCheck",
    "chain_rule_trace",
    "ChainRuleTrace",
    "stepper",
    "Stepper",
    "drawing_mimebundle",
    "CONVENTIONS",
    "CONVENTION_KEYS",
    "worksheet",
    "Worksheet",
]
