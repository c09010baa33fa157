"""SageMaker Model Monitor schedule expressions: parse what a user wrote, or say why it is refused.

SageMaker accepts only four cadences (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html):
hourly `cron(0 * ? * * *)`, daily at hour H `cron(0 H ? * * *)`, every N hours from hour H `cron(0 H/N ? * * *)` and
the one-off `NOW`. H/N is a cron step: it runs at H, H+N, ... up to 23 and starts again at H every day, so only an N
that divides 24, from an H below N, runs every N hours; other forms (once a day, or a long gap at midnight) are
refused with the hours they would really run at, since the tool times runtimes, alarms and `make status` by N. The
service rejects anything else at create time with an unhelpful message (or, worse, leaves the
schedule `Failed`), so every other form is refused here with the reason and the fix.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

HOUR = 3600
DAY = 24 * HOUR

ALLOWED_FORMS = (
    "hourly, daily, 'every N hours', now, cron(0 * ? * * *), cron(0 H ? * * *), "
    "cron(0 H/N ? * * *) or NOW"
)


class ScheduleRejected(ValueError):
    """The expression is not one SageMaker accepts; the message says why and what to write."""


@dataclass(frozen=True)
class Schedule:
    expression: str  # exactly what goes into ScheduleConfig.ScheduleExpression
    period_seconds: int  # time between runs; a one-off run gets the API maximum runtime
    one_time: bool
    kind: str  # hourly | daily | every_n_hours | one_time


# ASCII only ([0-9], spaces): \d and \s also match other scripts' digits and spaces, which SageMaker refuses.
_LABEL = re.compile(r"^[ \t]*([A-Za-z][A-Za-z \-]*):[ \t]*([^ \t].*)$")
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)
_EVERY = re.compile(r"^every[ \t]+([0-9]+)[ \t]+hours?$", re.IGNORECASE)
_WINDOW = re.compile(r"^-P(?:T([0-9]+)H|([0-9]+)D)$")


@functools.lru_cache(maxsize=1024)  # a fleet's build asks about each monitor's schedule dozens of times
def parse_schedule(text: str, *, evenly_spaced: bool = True) -> Schedule:
    """What a params file's schedule means, or ScheduleRejected. `evenly_spaced=False` reads a deployed expression
    as SageMaker does (`make status`), without refusing H/N forms whose runs are not N hours apart. The answer
    is a frozen Schedule, so one is kept per text (a rejection is not kept: it raises again)."""
    raw = text.strip()
    lowered = raw.lower()
    if lowered == "hourly":
        return Schedule("cron(0 * ? * * *)", HOUR, False, "hourly")
    if lowered == "daily":
        return Schedule("cron(0 0 ? * * *)", DAY, False, "daily")
    if lowered == "now":
        return Schedule("NOW", DAY, True, "one_time")
    if lowered in ("weekly", "monthly"):
        raise ScheduleRejected(
            f"{lowered} schedules are not supported by SageMaker Model Monitor, which runs only "
            f"hourly, daily, every N hours or once (NOW); use daily or cron(0 H ? * * *)"
        )
    every = _EVERY.match(raw)
    if every:
        return _every_n_hours(0, int(every.group(1)), evenly_spaced)

    label = _LABEL.match(raw)
    if label and _CRON.match(label.group(2).strip()):
        cron = label.group(2).strip()
        raise ScheduleRejected(
            f"the label '{label.group(1)}:' is part of the documentation, not of the expression "
            f"(a schedule created with it fails); write only {cron}"
        )
    if lowered.startswith("rate("):
        raise ScheduleRejected(
            "rate() expressions are not accepted by SageMaker Model Monitor; use hourly, daily, "
            "'every N hours' or cron(0 H/N ? * * *)"
        )
    match = _CRON.match(raw)
    if not match:
        raise ScheduleRejected(f"not a schedule SageMaker accepts; write one of: {ALLOWED_FORMS}")
    return _parse_cron(match.group(1).split(), evenly_spaced)


def _parse_cron(fields: list[str], evenly_spaced: bool) -> Schedule:
    if len(fields) != 6:
        raise ScheduleRejected(
            f"a cron expression has 6 fields (minute hour day-of-month month day-of-week year), "
            f"this one has {len(fields)}; for example cron(0 * ? * * *) runs hourly"
        )
    minute, hour, day_of_month, month, day_of_week, year = fields
    if day_of_week not in ("*", "?") or day_of_month not in ("*", "?"):
        cadence = "weekly" if day_of_week not in ("*", "?") else "monthly"
        raise ScheduleRejected(
            f"{cadence} schedules are not supported by SageMaker Model Monitor, which runs only "
            f"hourly, daily, every N hours or once (NOW); use a daily schedule such as "
            f"cron(0 0 ? * * *)"
        )
    if month != "*" or year != "*":
        raise ScheduleRejected(
            "the month and year fields must be '*': SageMaker Model Monitor runs only hourly, daily, "
            "every N hours or once (NOW)"
        )
    if minute != "0":
        raise ScheduleRejected(
            "the minute field must be 0: Model Monitor runs at the top of the hour, e.g. cron(0 * ? * * *)"
        )
    if hour == "*":
        return Schedule("cron(0 * ? * * *)", HOUR, False, "hourly")
    if re.fullmatch("[0-9]+", hour):
        start = _hour(hour)
        return Schedule(f"cron(0 {start} ? * * *)", DAY, False, "daily")
    every = re.fullmatch(r"([0-9]+|\*)/([0-9]+)", hour)
    if every:
        start = 0 if every.group(1) == "*" else _hour(every.group(1))
        return _every_n_hours(start, int(every.group(2)), evenly_spaced)
    raise ScheduleRejected(
        f"hour field '{hour}' is not accepted; use '*' (hourly), H (daily at H, 0-23) or H/N "
        f"(every N hours from H), e.g. cron(0 0/6 ? * * *)"
    )


def _hour(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 23:
        raise ScheduleRejected(f"hour {value} is out of range; hours are 0-23 (UTC)")
    return value


def run_hours(start: int, interval: int) -> list[int]:
    """The UTC hours `cron(0 start/interval ? * * *)` runs at: cron steps from `start` to 23 and starts again at
    `start` the next day, so the runs are evenly spaced only when `interval` divides 24 and `start` < `interval`."""
    return list(range(start, 24, interval))


def _every_n_hours(start: int, interval: int, evenly_spaced: bool = True) -> Schedule:
    if not 1 <= interval <= 23:
        raise ScheduleRejected(
            f"every {interval} hours is not accepted; the interval is 1-23 hours (use daily for 24)"
        )
    if interval == 1 and start == 0:
        return Schedule("cron(0 * ? * * *)", HOUR, False, "hourly")
    if not evenly_spaced:
        return Schedule(f"cron(0 {start}/{interval} ? * * *)", interval * HOUR, False, "every_n_hours")
    hours = run_hours(start, interval)
    written = f"cron(0 {start}/{interval} ? * * *)"
    at = ", ".join(f"{h:02d}:00" for h in hours)
    if len(hours) == 1:
        raise ScheduleRejected(
            f"{written} runs once a day, at {at} UTC, not every {interval} hours: cron counts from hour {start} to 23 "
            f"and starts again at {start} the next day; write cron(0 {start} ? * * *) for a daily run"
        )
    gaps = [b - a for a, b in zip(hours, hours[1:])] + [hours[0] + 24 - hours[-1]]
    if len(set(gaps)) > 1:
        divisors = ", ".join(str(n) for n in range(2, 13) if 24 % n == 0)
        even = ", ".join(f"{h:02d}:00" for h in run_hours(start % interval, interval))
        fix = (f"write cron(0 {start % interval}/{interval} ? * * *) for every {interval} hours ({even} UTC)"
               if 24 % interval == 0 else f"use an interval that divides 24 ({divisors})")
        raise ScheduleRejected(
            f"{written} runs at {at} UTC: {gaps[-1]} hours pass between the last run of a day and the first of the "
            f"next, not {interval} (cron starts again at hour {start} every day); {fix}"
        )
    if interval == 1:
        return Schedule("cron(0 * ? * * *)", HOUR, False, "hourly")
    return Schedule(f"cron(0 {start}/{interval} ? * * *)", interval * HOUR, False, "every_n_hours")


def window_offset_hours(text: str) -> int:
    """`-PT3H` -> -3, `-P1D` -> -24. Raises ValueError with the accepted forms."""
    match = _WINDOW.fullmatch(text)  # as written: the value goes into the template unchanged
    if not match:
        raise ValueError("an offset is written -PT<hours>H or -P<days>D, for example -PT1H or -PT0H")
    hours = int(match.group(1)) if match.group(1) is not None else 24 * int(match.group(2))
    return -hours
