"""The seed blog post's code, verbatim, under ``import plugrad as torch``: same stdout as torch.

Every ```python block of the post runs in order in one subprocess (later blocks use names the
earlier ones define), once with real torch and once with plugrad, after the same
``torch.manual_seed(0)`` so the random tensors match. The GPU block is skipped on both by
``torch.cuda.is_available()`` being False here.
"""
import os
import re
import subprocess
import sys

import pytest
import torch  # noqa: F401  (the oracle: fail, not skip, when missing)

SEED_POST = "/work/shared/seed/000_44eb5b6dabddc3c9.txt"
HERE = os.path.dirname(os.path.abspath(__file__))


def _post():
    path = SEED_POST
    if not os.path.exists(path):
        path = os.path.join(os.path.dirname(HERE), "data", "seed_post.txt")
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_blocks():
    return re.findall(r"```python\n(.*?)```", _post(), flags=re.S)


def as_plugrad(code):
    """The post's code with its torch imports pointed at plugrad (nothing else changes)."""
    code = re.sub(r"^import torch\.nn as nn$", "import plugrad.nn as nn", code, flags=re.M)
    code = re.sub(r"^import torch\.optim as optim$", "import plugrad.optim as optim", code,
                  flags=re.M)
    return re.sub(r"^import torch$", "import plugrad as torch", code, flags=re.M)


def run(code):
    env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, f"the post's code failed:\n{proc.stderr}"
    return proc.stdout.splitlines()


@pytest.fixture(scope="module")
def outputs():
    program = "import torch\ntorch.manual_seed(0)\n" + "\n".join(code_blocks())
    return run(program), run(as_plugrad(program))


def test_the_post_has_its_examples():
    blocks = code_blocks()
    assert len(blocks) == 9
    assert "import plugrad as torch" in as_plugrad(blocks[0])
    assert "import plugrad.nn as nn" in as_plugrad(blocks[7])
    assert "import plugrad.optim as optim" in as_plugrad(blocks[8])


def test_stdout_matches_torch_line_for_line(outputs):
    want, got = outputs
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"line {i + 1}: plugrad {g!r} != torch {w!r}"


def test_outputs_the_issue_names(outputs):
    _, got = outputs
    text = "\n".join(got)
    assert got[0] == "tensor(4.)"                                  # dy/dx = 2x at 2
    assert "Sum: tensor(10.)" in text
    assert "Mean: tensor(2.5000)" in text
    assert "Max: tensor(4.)" in text
    assert "Argmax: tensor(3)" in text                             # flattened index
    assert "Variance: tensor(2.5000)" in text                      # unbiased
    assert "Gradient: tensor(12.)" in text
    assert "Arange Tensor: tensor([0, 2, 4, 6, 8])" in text
    model_line = next(line for line in got if line.startswith("Model Output:"))
    assert model_line.endswith("grad_fn=<AddmmBackward0>)")
    losses = [float(line.split("Loss: ")[1]) for line in got if line.startswith("Epoch")]
    assert len(losses) == 10 and losses[-1] < losses[0]


def test_each_block_runs_alone_where_self_contained():
    """Blocks that import torch themselves run on their own too."""
    for code in code_blocks():
        if code.startswith("import torch\n"):
            assert run(as_plugrad("import torch\ntorch.manual_seed(0)\n" + code)) == \
                run("import torch\ntorch.manual_seed(0)\n" + code)


def test_torch_random_module_functions():
    """plugrad.random carries torch.random's functions (it is torch's module name)."""
    import torch

    import plugrad
    for lib in (torch, plugrad):
        lib.random.manual_seed(5)
        lib.rand(3)
        assert lib.random.initial_seed() == 5
        with lib.random.fork_rng():
            lib.rand(7)
        state = lib.random.get_rng_state()
        second = lib.rand(3)
        lib.random.set_rng_state(state)
        assert lib.equal(lib.rand(3), second)
        assert lib.random.default_generator is lib.default_generator
    plugrad.random.manual_seed(5)
    torch.random.manual_seed(5)
    assert plugrad.rand(3).tolist() == torch.rand(3).tolist()
