//! A child process started as the leader of its own process group, so that
//! stopping it also stops everything it spawned (chopsticks, the block timer)
//! — by process-group id, never by name.

use std::{
    os::unix::process::CommandExt,
    process::{Child, ChildStderr, ChildStdout, Command},
    time::{Duration, Instant},
};

/// Grace period between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct ProcessGroup {
    child: Child,
    stopped: bool,
}

impl ProcessGroup {
    /// Spawns `cmd` in a new process group; returns its piped stdout and stderr.
    pub fn spawn(mut cmd: Command) -> std::io::Result<(Self, ChildStdout, ChildStderr)> {
        cmd.process_group(0);
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut group = ProcessGroup {
            child,
            stopped: false,
        };
        match (stdout, stderr) {
            (Some(out), Some(err)) => Ok((group, out, err)),
            _ => {
                group.stop();
                Err(std::io::Error::other("child spawned without piped output"))
            }
        }
    }

    /// The group id: the leader's pid.
    pub fn pgid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGTERM to the group (the script cleans up), SIGKILL after a grace period.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let pgid = self.pgid();
        signal_group(pgid, libc::SIGTERM);
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is still in the group (including the leader) goes now.
        signal_group(pgid, libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.stop();
    }
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) with a negative pid signals exactly that process group;
        // it has no memory-safety preconditions.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}
