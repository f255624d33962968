"""tap.py - TAP output for the integration tests (read by automake's tap-driver).

Every check prints one "ok N - ..." or "not ok N - ..." line; done() prints
the plan and returns the exit status.  A test file that raises is reported
as a failed check instead of silently stopping.
"""
import sys
import traceback


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def _line(self, cond, desc, diag=None):
        self.n += 1
        desc = " ".join(str(desc).replace("#", " ").split())
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc))
        if not cond:
            self.failed += 1
            if diag:
                for line in str(diag).splitlines()[:40]:
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def ok(self, cond, desc, diag=None):
        return self._line(bool(cond), desc, diag)

    def eq(self, got, want, desc):
        return self._line(got == want, desc, "got:  %r\nwant: %r" % (got, want))

    def contains(self, hay, needle, desc):
        if isinstance(hay, bytes) and isinstance(needle, str):
            needle = needle.encode()
        return self._line(hay is not None and needle in hay, desc,
                          "%r\ndoes not contain %r" % (hay[:2000] if hay else hay, needle))

    def not_contains(self, hay, needle, desc):
        if isinstance(hay, bytes) and isinstance(needle, str):
            needle = needle.encode()
        return self._line(hay is not None and needle not in hay, desc,
                          "%r\ncontains %r" % (hay[:2000] if hay else hay, needle))

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def run(self, fn, *args):
        """Runs one test function; an exception counts as one failure."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - report anything as a failure
            self._line(False, "%s raised" % fn.__name__, traceback.format_exc())

    def done(self):
        print("1..%d" % self.n)
        sys.stdout.flush()
        return 0 if self.failed == 0 else 1
