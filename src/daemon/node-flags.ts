/**
 * V8 flags flotillad runs with. A 1 MB young generation (V8's default is
 * 16 MB per semi-space) keeps an idle flotillad near 70-77 MB RSS instead of
 * 75-88 MB (test/bench/idle), inside the 80 MB target; its allocations are
 * small and short-lived, so the extra scavenges cost nothing measurable.
 * The `#!` line of src/daemon/main.ts passes the same flags (env -S).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
