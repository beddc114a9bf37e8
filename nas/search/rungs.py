"""Successive halving inside an Optuna study: rung results, promotions and claims (no torch).

Optuna's pruners are single-objective (``trial.report`` / ``should_prune`` raise in
multi-objective studies, Optuna RFC #3450), so ``nas`` runs asynchronous successive halving
(ASHA, Li et al. 2020) itself, with the multi-objective promotion rule of
:func:`nas.schedule.halving.promote` (non-dominated sorting + crowding distance, as archai's
``SuccessiveHalvingSearch``):

* One Optuna trial is one candidate. It is told once, with its **rung-0** scores, so the sampler
  learns from every candidate at one and the same fidelity, and ``--budget`` counts candidates.
* Rung ``r >= 1`` results are study user attributes (they stay writable after a trial
  finished): ``rung:<trial number>:<r>`` -> ``{"psnr_db", "iters", "train_s", "val_s", "at",
  "worker", "replayed"}`` or ``{"failed": reason, ...}``.
* Before sampling a new candidate a worker looks for a *promotion*: a candidate in the best
  ``1/eta`` of rung ``r`` (by the rule above, references always included) that has no rung
  ``r+1`` result yet and no live claim; the deepest rung goes first. It claims it
  (``claim:<number>:<r>`` -> ``{"worker", "beat"}``, written under the study's set-up
  lock so two workers never claim the same promotion), refreshes the claim's ``beat`` while
  training, and writes the result. A claim whose beat is older than the grace period (its
  worker was killed) is free again: the resumed or another worker continues at that rung.
* The final front compares candidates at the top rung only (same fidelity);
  :func:`rung_table` is what the report reads.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from typing import Any, Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.schedule.halving import RungCandidate, places, promote
from nas.scoring.objectives import is_feasible, objectives_of

__all__ = ["RESULT_PREFIX", "CLAIM_PREFIX", "RungEntry", "rung_table", "rung_results", "promotions",
           "live_claims", "claim", "heartbeat", "release", "record_result", "record_failure"]

RESULT_PREFIX = "rung:"
CLAIM_PREFIX = "claim:"


@dataclass(frozen=True)
class RungEntry:
    """A candidate scored at one rung.

    Attributes:
        number: Optuna trial number.
        rung: 0-based rung.
        values: the study's objective values, PSNR first (default ``(psnr_db, params,
            mult_adds, latency_ms)``: dB, count, MACs, ms); the costs are the trial's (they do not change with training). ``psnr_db`` is the predicted
            fully-trained PSNR when the profile has a predictor, else the validation PSNR.
        iters: proxy steps trained in all (the fidelity).
        reference: published network's name, else ``None``.
        at: when the score was obtained (local time, as Optuna's trial datetimes), or ``None``.
        raw_psnr_db: the proxy's validation PSNR at this rung (dB), whatever ``values`` ranks by.
    """

    number: int
    rung: int
    values: tuple[float, ...]
    iters: int | None
    reference: str | None
    at: _dt.datetime | None = None
    raw_psnr_db: float | None = None


def _key(prefix: str, number: int, rung: int) -> str:
    return f"{prefix}{number}:{rung}"


def _parse(key: str, prefix: str) -> tuple[int, int] | None:
    if not key.startswith(prefix):
        return None
    try:
        number, rung = key[len(prefix):].split(":")
        return int(number), int(rung)
    except ValueError:
        return None


def rung_results(attrs: dict[str, Any], prefix: str = RESULT_PREFIX) -> dict[tuple[int, int], dict[str, Any]]:
    """``{(trial number, rung): result dict}`` from the study's user attributes (``prefix``: the
    stage, ``rung:`` for successive halving, ``confirm:`` for ``nas confirm``)."""
    out = {}
    for k, v in attrs.items():
        nr = _parse(k, prefix)
        if nr is not None and isinstance(v, dict):
            out[nr] = v
    return out


def rung_table(trials: list[FrozenTrial], attrs: dict[str, Any]) -> dict[int, dict[int, RungEntry]]:
    """Every candidate's score at every rung it reached: ``{rung: {trial number: entry}}``.

    Rung 0 is the COMPLETE, feasible trials (their Optuna values); rung ``r >= 1`` the stored
    results (failed continuations are left out: the candidate stopped at the rung below).
    """
    table: dict[int, dict[int, RungEntry]] = {0: {}}
    by_number = {}
    n_obj = len(objectives_of(attrs))
    for t in trials:
        if t.state != TrialState.COMPLETE or t.values is None or len(t.values) != n_obj or not is_feasible(t):
            continue
        by_number[t.number] = t
        raw = t.user_attrs.get("psnr_raw_db")
        table[0][t.number] = RungEntry(t.number, 0, tuple(t.values), t.user_attrs.get("iters"),
                                       t.user_attrs.get("reference") or None, t.datetime_complete,
                                       raw_psnr_db=float(raw) if raw is not None else float(t.values[0]))
    for (number, rung), res in sorted(rung_results(attrs).items()):
        t = by_number.get(number)
        if t is None or "psnr_db" not in res or rung < 1:
            continue
        at = None
        if res.get("at"):
            try:
                at = _dt.datetime.fromisoformat(res["at"])
            except ValueError:
                at = None
        pred = res.get("prediction")
        psnr = float(pred["psnr_db"]) if isinstance(pred, dict) and "psnr_db" in pred else float(res["psnr_db"])
        table.setdefault(rung, {})[number] = RungEntry(
            number, rung, (psnr, *t.values[1:]), res.get("iters"),
            t.user_attrs.get("reference") or None, at, raw_psnr_db=float(res["psnr_db"]))
    return table


def live_claims(attrs: dict[str, Any], grace_s: float, now: float | None = None,
                stage: tuple[str, str] = (RESULT_PREFIX, CLAIM_PREFIX)) -> set[tuple[int, int]]:
    """``(number, rung)`` of the claims whose worker beat within ``grace_s`` seconds and that
    have no result yet (``stage``: the result and claim key prefixes)."""
    now = time.time() if now is None else now
    done = set(rung_results(attrs, stage[0]))
    out = set()
    for k, v in attrs.items():
        nr = _parse(k, stage[1])
        if nr is None or nr in done or not isinstance(v, dict) or v.get("released"):
            continue
        if now - float(v.get("beat", 0.0)) <= grace_s:
            out.add(nr)
    return out


def promotions(trials: list[FrozenTrial], attrs: dict[str, Any], rungs: int, eta: int,
               grace_s: float, now: float | None = None) -> list[tuple[int, int]]:
    """Promotions that may start now, deepest rung first: ``[(trial number, target rung)]``.

    A candidate at rung ``r < rungs - 1`` is promotable when :func:`promote` picks it among
    all candidates scored at rung ``r`` so far (references always), it has no result at
    ``r + 1`` (failed included: never retried forever) and nobody holds a live claim on it.

    Promotions are irrevocable, so plain ASHA promotes more than ``1/eta`` over a run (each
    newcomer that enters the current best ``1/eta`` goes up, and with four objectives many
    newcomers land on the first front). A quota keeps the rule's share: the searched (not
    reference) candidates promoted from rung ``r`` never exceed ``places(n_r, eta)``, the ranked
    places of the ``n_r`` candidates scored there so far.
    """
    if rungs < 2:
        return []
    table = rung_table(trials, attrs)
    attempted = set(rung_results(attrs))
    claimed = live_claims(attrs, grace_s, now)
    out = []
    for r in range(rungs - 2, -1, -1):
        entries = table.get(r, {})
        if not entries:
            continue
        cands = [RungCandidate(key=e.number, values=e.values, always=e.reference is not None)
                 for e in entries.values()]
        taken = {(n, r + 1) for n in entries} & (attempted | claimed)
        room = places(len(cands), eta) - sum(1 for n, _ in taken if entries[n].reference is None)
        for number in promote(cands, eta, directions=[o.direction for o in objectives_of(attrs)]):
            if (number, r + 1) in taken:
                continue
            if entries[number].reference is None:
                if room <= 0:
                    continue
                room -= 1
            out.append((number, r + 1))
    return out


def _worker_tag(worker: dict[str, Any]) -> dict[str, Any]:
    return {k: worker.get(k) for k in ("host", "pid", "worker_id")}


def claim(study: optuna.Study, number: int, rung: int, worker: dict[str, Any], grace_s: float,
          lock: Callable[[], Any], stage: tuple[str, str] = (RESULT_PREFIX, CLAIM_PREFIX)) -> bool:
    """Claim the promotion of trial ``number`` to ``rung`` for this worker.

    Read-check-write under ``lock`` (the study's set-up lock: PostgreSQL advisory lock or a
    file lock), so two workers never both get it.

    Returns:
        True if this worker now holds the claim; False if it is done or someone else's.
    """
    with lock():
        attrs = study.user_attrs
        if (number, rung) in rung_results(attrs, stage[0]) or (number, rung) in live_claims(attrs, grace_s,
                                                                                             stage=stage):
            return False
        study.set_user_attr(_key(stage[1], number, rung),
                            {"worker": _worker_tag(worker), "beat": time.time()})
    return True


def heartbeat(study: optuna.Study, number: int, rung: int, worker: dict[str, Any],
              claim_prefix: str = CLAIM_PREFIX) -> None:
    """Refresh this worker's claim (called every few seconds while it trains)."""
    study.set_user_attr(_key(claim_prefix, number, rung),
                        {"worker": _worker_tag(worker), "beat": time.time()})


def release(study: optuna.Study, number: int, rung: int, claim_prefix: str = CLAIM_PREFIX) -> None:
    """Give a claim back without a result (interrupted): the promotion is free again."""
    study.set_user_attr(_key(claim_prefix, number, rung), {"released": True, "beat": 0.0})


def _now_iso() -> str:
    return _dt.datetime.now().replace(microsecond=0).isoformat()


def record_result(study: optuna.Study, number: int, rung: int, psnr_db: float, iters: int,
                  train_s: float, val_s: float, replayed: bool, worker: dict[str, Any],
                  prediction: dict[str, Any] | None = None) -> None:
    """Store a candidate's score at ``rung`` (validation PSNR in dB after ``iters`` steps in all;
    ``prediction``: the predicted fully-trained PSNR made from it, ``Prediction.to_dict()``)."""
    rec = {"psnr_db": float(psnr_db), "iters": int(iters), "train_s": round(train_s, 3), "val_s": round(val_s, 3),
           "replayed": bool(replayed), "at": _now_iso(), "worker": _worker_tag(worker)}
    if prediction is not None:
        rec["prediction"] = prediction
    study.set_user_attr(_key(RESULT_PREFIX, number, rung), rec)


def record_failure(study: optuna.Study, number: int, rung: int, reason: str, worker: dict[str, Any],
                   result_prefix: str = RESULT_PREFIX) -> None:
    """Store that the continuation to ``rung`` failed (diverged, out of memory...): the candidate
    stays at the rung below and is not retried."""
    study.set_user_attr(_key(result_prefix, number, rung),
                        {"failed": reason[:500], "at": _now_iso(), "worker": _worker_tag(worker)})
