"""Time-varying Poisson arrivals by thinning (pure: the random source is passed in)."""

from __future__ import annotations

import bisect
import datetime as dt
import random
import zoneinfo

from streams.producers.sim.basics import Traffic

__all__ = ["Arrivals"]


class Arrivals:
    """Arrival times of one traffic: rate = per_hour x profile(time of day) x spikes.

    Candidates come at the peak rate and each is kept with probability rate(t) / peak
    (Lewis and Shedler's thinning), which gives an exact non-homogeneous Poisson process.
    """

    def __init__(self, queue: Traffic, start_epoch_s: float, zone: zoneinfo.ZoneInfo):
        self.queue = queue
        self.start_epoch_s = start_epoch_s
        self.zone = zone
        points = queue.profile_points()
        # Wrap around the day so that interpolation between the last and first points works.
        self._xs = [points[-1][0] - 86400, *(p[0] for p in points), points[0][0] + 86400]
        self._ys = [points[-1][1], *(p[1] for p in points), points[0][1]]
        peak_spike = 1.0
        for spike in queue.spikes:
            peak_spike *= max(1.0, spike.factor)
        self.base_per_s = queue.per_hour / 3600
        self.peak_per_s = self.base_per_s * max(self._ys) * peak_spike
        self._constant = queue.profile is None and not queue.spikes

    def _second_of_day(self, t: float) -> float:
        moment = dt.datetime.fromtimestamp(self.start_epoch_s + t, tz=self.zone)
        return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6

    def multiplier(self, t: float) -> float:
        """Profile x spikes at `t` seconds after the start."""
        if self._constant:
            return 1.0
        second = self._second_of_day(t)
        i = bisect.bisect_right(self._xs, second) - 1
        x0, x1, y0, y1 = self._xs[i], self._xs[i + 1], self._ys[i], self._ys[i + 1]
        factor = y0 + (y1 - y0) * (second - x0) / (x1 - x0)
        for spike in self.queue.spikes:
            if spike.active(second):
                factor *= spike.factor
        return factor

    def rate_per_s(self, t: float) -> float:
        return self.base_per_s * self.multiplier(t)

    def next_after(self, t: float, rng: random.Random, horizon: float) -> float | None:
        """The first arrival after `t`, or None if there is none before `horizon`."""
        if self.peak_per_s <= 0:
            return None
        while True:
            t += rng.expovariate(self.peak_per_s)
            if t > horizon:
                return None
            if self._constant or rng.random() * self.peak_per_s < self.rate_per_s(t):
                return t
