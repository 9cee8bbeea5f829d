"""Learning-rate schedulers against torch: the lr (and cycled momentum) sequence, step for
step, must be identical -- both sides do the same float64 arithmetic in the same order."""
from __future__ import annotations

import warnings

import pytest
import torch

import plugrad


def _optimizer(mod, name="SGD", kw=None):
    p = mod.zeros(2, requires_grad=True)
    q = mod.zeros(3, requires_grad=True)
    kw = dict(lr=0.1, momentum=0.9) if kw is None else kw
    return getattr(mod.optim, name)([{"params": [p]}, {"params": [q], "lr": 0.05}], **kw)


def _sequence(mod, sched, kw, n=40, opt=("SGD", None), metrics=None, epochs=None):
    o = _optimizer(mod, *opt)
    s = getattr(mod.optim.lr_scheduler, sched)(o, **kw)
    out = [tuple(s.get_last_lr())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the deprecated step(epoch) form warns
        for i in range(n):
            o.step()
            if metrics is not None:
                s.step(metrics[i])
            elif epochs is not None:
                s.step(epochs[i])
            else:
                s.step()
            out.append((tuple(s.get_last_lr()),
                        tuple(g.get("momentum", g.get("betas")) for g in o.param_groups)))
    return out


CASES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (e + 1), lambda e: e % 3])),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.9)),
    ("LinearLR", dict(start_factor=0.2, total_iters=6)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=12)),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("PolynomialLR", dict(total_iters=10, power=2.0)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=40)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.3], epochs=4, steps_per_epoch=10, three_phase=True,
                        anneal_strategy="linear", pct_start=0.25)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="triangular2")),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5,
                      mode="exp_range", gamma=0.9)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2, eta_min=0.01)),
]


@pytest.mark.parametrize("sched,kw", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_lr_sequence_matches_torch(sched, kw):
    assert _sequence(plugrad, sched, kw) == _sequence(torch, sched, kw)


@pytest.mark.parametrize("sched,kw", [CASES[12], CASES[14]], ids=["OneCycleLR", "CyclicLR"])
def test_momentum_cycling_on_adam_betas(sched, kw):
    adam = ("Adam", dict(lr=0.1))
    assert _sequence(plugrad, sched, kw, opt=adam) == _sequence(torch, sched, kw, opt=adam)


def test_reduce_lr_on_plateau():
    metrics = [1.0, 0.9, 0.9, 0.9, 0.95, 0.9, 0.9, 0.9, 0.9, 0.8] * 4
    for kw in (dict(patience=2, cooldown=1), dict(mode="max", factor=0.5, patience=1,
                                                  threshold_mode="abs", min_lr=[0.02, 0.01])):
        got = _sequence(plugrad, "ReduceLROnPlateau", kw, metrics=metrics)
        assert got == _sequence(torch, "ReduceLROnPlateau", kw, metrics=metrics)
    # a 1-element tensor metric is accepted, as in torch
    o = _optimizer(plugrad)
    s = plugrad.optim.lr_scheduler.ReduceLROnPlateau(o, patience=0)
    s.step(plugrad.tensor(1.0))
    s.step(plugrad.tensor([2.0]))
    assert s.get_last_lr() == [0.010000000000000002, 0.005000000000000001]


def test_closed_form_epoch_argument():
    epochs = [0, 3, 3, 7, 2, 10, 11, 5] * 2
    for sched, kw in (CASES[0], CASES[1], CASES[2], CASES[3], CASES[9], CASES[17]):
        got = _sequence(plugrad, sched, kw, n=len(epochs), epochs=epochs)
        assert got == _sequence(torch, sched, kw, n=len(epochs), epochs=epochs), sched


def test_sequential_and_chained():
    def seq(mod):
        o = _optimizer(mod)
        lr = mod.optim.lr_scheduler
        s = lr.SequentialLR(o, [lr.LinearLR(o, start_factor=0.1, total_iters=3),
                                lr.ExponentialLR(o, gamma=0.9)], milestones=[4])
        c = lr.ChainedScheduler([lr.ConstantLR(o, factor=0.5, total_iters=2),
                                 lr.StepLR(o, step_size=3)])
        out = []
        for _ in range(12):
            o.step()
            s.step()
            c.step()
            out.append((tuple(s.get_last_lr()), tuple(c.get_last_lr())))
        return out
    assert seq(plugrad) == seq(torch)


def test_state_dict_round_trip_resumes_schedule():
    o = _optimizer(plugrad)
    s = plugrad.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20)
    for _ in range(7):
        o.step()
        s.step()
    saved, opt_saved = s.state_dict(), o.state_dict()
    o2 = _optimizer(plugrad)
    s2 = plugrad.optim.lr_scheduler.OneCycleLR(o2, max_lr=0.5, total_steps=20)
    o2.load_state_dict(opt_saved)
    s2.load_state_dict(saved)
    for _ in range(5):
        for opt, sch in ((o, s), (o2, s2)):
            opt.step()
            sch.step()
        assert s.get_last_lr() == s2.get_last_lr()
    assert "optimizer" not in saved and saved["last_epoch"] == 7
    t = torch.optim.lr_scheduler.OneCycleLR(_optimizer(torch), max_lr=0.5, total_steps=20)
    assert sorted(saved) == sorted(t.state_dict())


def test_warnings_like_torch():
    for mod in (torch, plugrad):
        o = _optimizer(mod)
        s = mod.optim.lr_scheduler.StepLR(o, step_size=2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            s.step()
        with pytest.warns(UserWarning, match="get_last_lr"):
            s.get_lr()


@pytest.mark.parametrize("make", [
    lambda m, o: m.optim.lr_scheduler.StepLR("not an optimizer", step_size=2),
    lambda m, o: m.optim.lr_scheduler.StepLR(o, step_size=2, last_epoch=3),
    lambda m, o: m.optim.lr_scheduler.LambdaLR(o, lr_lambda=[lambda e: 1.0]),
    lambda m, o: m.optim.lr_scheduler.MultiplicativeLR(o, lr_lambda=0.5),
    lambda m, o: m.optim.lr_scheduler.LinearLR(o, start_factor=0),
    lambda m, o: m.optim.lr_scheduler.ConstantLR(o, factor=2),
    lambda m, o: m.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1),
    lambda m, o: m.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda m, o: m.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=5, pct_start=1),
    lambda m, o: m.optim.lr_scheduler.OneCycleLR(o, max_lr=[0.1], total_steps=5),
    lambda m, o: m.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=5,
                                                 anneal_strategy="x"),
    lambda m, o: m.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="nope"),
    lambda m, o: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda m, o: m.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
    lambda m, o: m.optim.lr_scheduler.ReduceLROnPlateau(o, mode="up"),
    lambda m, o: m.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda m, o: m.optim.lr_scheduler.SequentialLR(o, [], milestones=[]),
])
def test_bad_arguments_match_torch(make):
    with pytest.raises(Exception) as et:
        make(torch, _optimizer(torch))
    with pytest.raises(type(et.value)) as ep:
        make(plugrad, _optimizer(plugrad))
    assert str(ep.value) == str(et.value)


def test_one_cycle_overrun():
    for mod in (torch, plugrad):
        o = _optimizer(mod)
        s = mod.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=2)
        o.step()
        s.step()
        o.step()
        s.step()
        with pytest.raises(ValueError, match="Tried to step 3 times"):
            s.step()
