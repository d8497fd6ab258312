"""Fair throttling of password guesses: growing delays per (account, address) and per address.

A hard lock on an account is a weapon: anyone who knows a user name (the admin's is public) could
keep its owner out by typing wrong passwords. So nothing here is keyed by the account alone. Each
key gets a few free failures, then every further failure makes the key wait longer before its next
try (1 s, 2 s, 4 s ... at most 15 minutes); a quiet hour forgets them. A guesser therefore slows
only their own address, while the owner signing in from theirs is untouched. The counters are
nodes in the graph, so every web worker, CLI and API process sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.queries import accounts as q
from graph.store import GraphStore

RESET_SECONDS = 60 * 60
MAX_DELAY_SECONDS = 15 * 60
PAIR_FREE_FAILURES = 3  # an owner's typos at their own desk
ADDRESS_FREE_FAILURES = 20  # one office behind one NAT address shares it


@dataclass(frozen=True)
class Rule:
    """A throttle key and how many failures it gets before delays start."""

    key: str
    free: int
    scope: str  # "account_address" | "address": what the audit trail names

    def delays_ms(self) -> list[int]:
        """Delay after the n-th failure, by n (the last entry applies to every later failure)."""
        delays = [0] * (self.free + 1)
        step = 1000
        while step < MAX_DELAY_SECONDS * 1000:
            delays.append(step)
            step *= 2
        delays.append(MAX_DELAY_SECONDS * 1000)
        return delays


@dataclass(frozen=True)
class Failure:
    """What one failed try did: the latest time any key may try again, and keys that now wait."""

    retry_at_ms: int
    delayed: tuple[tuple[str, int], ...]  # (scope, delay in seconds) per key that must now wait


def pair_rule(subject: str, address: str, kind: str = "login") -> Rule:
    return Rule(f"{kind}:{subject}|{address}", PAIR_FREE_FAILURES, "account_address")


def address_rule(address: str) -> Rule:
    return Rule(f"client:{address}", ADDRESS_FREE_FAILURES, "address")


def retry_at(store: GraphStore, rules: list[Rule], now: int) -> int:
    """0 when every key may try now, else the epoch ms when the last of them may."""
    rows = store.run(q.THROTTLE_LOCKS, {"keys": [rule.key for rule in rules], "now": now})
    return max((int(row["locked_until"]) for row in rows), default=0)


def fail(store: GraphStore, rules: list[Rule], now: int) -> Failure:
    """Count one failure against every rule (one atomic statement); return who must wait and until when."""
    scopes = {rule.key: rule.scope for rule in rules}
    rows = store.run(q.THROTTLE_FAIL, {
        "rows": [{"key": rule.key, "delays": rule.delays_ms()} for rule in rules],
        "now": now, "reset_ms": RESET_SECONDS * 1000,
    })
    delayed = tuple((scopes[row["key"]], int(row["delay"]) // 1000) for row in rows if row["delay"])
    until = max((int(row["locked_until"]) for row in rows if row["delay"]), default=0)
    return Failure(until, delayed)


def clear(store: GraphStore, rule: Rule) -> None:
    store.run(q.THROTTLE_CLEAR, {"key": rule.key})
