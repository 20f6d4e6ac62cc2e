"""Failed SSH log-ins (wallboard/ssh/limiter.py): counted per user and address, per user and per
address, so that one person mistyping behind a site's NAT does not shut the site out."""

from __future__ import annotations

from wallboard.ssh.limiter import ADDRESS, USER, USER_FROM_ADDRESS, FailureLimiter

NAT = "198.51.100.7"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock) -> FailureLimiter:
    return FailureLimiter(per_user_address=3, per_user=5, per_address=8, window=600, block=900, clock=clock)


def test_one_users_failures_shut_out_that_user_from_that_address_only():
    clock = Clock()
    limits = limiter(clock)
    assert limits.failure(NAT, "ann") == [] and limits.failure(NAT, "ann") == []
    (shut_out,) = limits.failure(NAT, "ann")
    assert (shut_out.scope, shut_out.user, shut_out.address, shut_out.until) == (USER_FROM_ADDRESS, "ann", NAT, 900)
    assert shut_out.describe(15, 10) == f"shut out 'ann' from {NAT} for 15 min after 3 failed logins within 10 min"
    assert limits.user_blocked(NAT, "ann") == USER_FROM_ADDRESS
    assert limits.user_blocked(NAT, "bob") is None, "bob behind the same NAT gets in"
    assert limits.user_blocked("203.0.113.9", "ann") is None, "ann from elsewhere gets in"
    assert not limits.address_blocked(NAT)
    clock.now = 899
    assert limits.user_blocked(NAT, "ann") == USER_FROM_ADDRESS
    clock.now = 901
    assert limits.user_blocked(NAT, "ann") is None


def test_failures_fall_out_of_the_window_and_a_login_forgives_them():
    clock = Clock()
    limits = limiter(clock)
    limits.failure(NAT, "ann")
    limits.failure(NAT, "ann")
    clock.now = 700  # both fell out of the window
    assert limits.failure(NAT, "ann") == [] and limits.failure(NAT, "ann") == []
    limits.success(NAT, "ann")
    assert limits.failure(NAT, "ann") == [] and limits.failure(NAT, "ann") == []
    assert limits.user_blocked(NAT, "ann") is None


def test_one_user_failing_from_many_addresses_is_shut_out_everywhere():
    clock = Clock()
    limits = limiter(clock)
    shut_outs = [s for n in range(5) for s in limits.failure(f"203.0.113.{n}", "ann")]
    assert [(s.scope, s.user) for s in shut_outs] == [(USER, "ann")]
    assert limits.user_blocked("192.0.2.1", "ann") == USER
    assert limits.user_blocked("192.0.2.1", "bob") is None


def test_only_many_failures_of_many_users_shut_out_the_address():
    clock = Clock()
    limits = limiter(clock)
    for number in range(7):
        assert limits.failure(NAT, f"user{number}") == []
    assert not limits.address_blocked(NAT)
    (shut_out,) = limits.failure(NAT, None)  # a connection that never named a user counts for the address
    assert shut_out.scope == ADDRESS and shut_out.describe(15, 10).startswith(f"shut out {NAT} (every user) for 15 min")
    assert limits.address_blocked(NAT) and not limits.address_blocked("192.0.2.1")


def test_a_flood_of_names_and_addresses_is_bounded():
    clock = Clock()
    limits = FailureLimiter(per_user_address=3, per_user=5, per_address=8, window=10, block=900, clock=clock)
    for number in range(25_000):
        clock.now = number * 0.01
        limits.failure(f"10.{number // 65536}.{number // 256 % 256}.{number % 256}", f"name{number}")
    assert len(limits._pairs._failures) <= 10_001 and len(limits._users._failures) <= 10_001
