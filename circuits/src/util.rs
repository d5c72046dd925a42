//! Process memory measurement, shared by the benchmarks and the miner (which
//! reports its peak memory per proof).

/// Peak resident set size of this process in bytes (`VmHWM`), if readable.
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kib("VmHWM:").map(|k| k * 1024)
}

/// Resets the kernel's peak-RSS mark to the current RSS (Linux >= 4.0), so
/// that a following `peak_rss_bytes` measures one phase. Returns whether the
/// reset worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system, all threads) this process has used so far, in
/// seconds, from `/proc/self/stat`; `None` where that is not readable.
///
/// The kernel reports it in clock ticks of `USER_HZ`, which is 100 on every
/// Linux ABI, so the resolution is 10 ms: measure over several repetitions.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    cpu_seconds_from_stat(&stat)
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted
/// from the last `)`.
fn cpu_seconds_from_stat(stat: &str) -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: state is field 3, utime field 14, stime field 15.
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_parsed_after_the_command_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime ...
        let line = "42 (a) b (c)) R 1 42 42 0 -1 4194560 100 0 0 0 250 31 0 0 20 0";
        assert_eq!(cpu_seconds_from_stat(line), Some(2.81));
        assert_eq!(cpu_seconds_from_stat("42 (x) R 1"), None);
        assert_eq!(cpu_seconds_from_stat("no name"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        // The parse must work on the running kernel's format, not only on
        // the sample line above.
        assert!(process_cpu_seconds().is_some());
    }
}
