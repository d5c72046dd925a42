//! The validator's database: every scored request, every miner's score and
//! every weight setting, in one embedded SQLite file.
//!
//! All SQL lives in this module, so the schema can change in one place and a
//! dashboard can read the same file through the query functions at the end
//! (miners table, per-miner history, recent challenges, weights history).
//! The file runs in WAL mode with `synchronous = FULL`: once a write returns,
//! it survives a crash or `kill -9` of the validator (and a power loss).
//! A request's row and the score it produced are written in one transaction,
//! so the two never disagree after a restart.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// Schema version written into `meta`; bump with a migration when it changes.
pub const SCHEMA_VERSION: i64 = 1;
/// How many recent verified requests per miner the latency/memory/size
/// statistics look at.
pub const STATS_WINDOW: usize = 500;

/// Database errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this validator's ({SCHEMA_VERSION})")]
    SchemaTooNew { found: i64 },
    #[error("database row is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per (uid, hotkey): a uid that changes hands starts from zero.
CREATE TABLE IF NOT EXISTS scores (
    uid          INTEGER NOT NULL,
    hotkey       TEXT    NOT NULL,
    score        REAL    NOT NULL,
    successes    INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (uid, hotkey)
);
CREATE TABLE IF NOT EXISTS requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms         INTEGER NOT NULL,
    challenge_id  TEXT    NOT NULL,
    uid           INTEGER NOT NULL,
    hotkey        TEXT    NOT NULL,
    model_id      TEXT    NOT NULL,
    model_name    TEXT    NOT NULL,
    first_slice   INTEGER NOT NULL,
    last_slice    INTEGER NOT NULL,
    success       INTEGER NOT NULL,
    reason        TEXT,
    detail        TEXT,
    latency_ms    INTEGER,
    prove_time_ms INTEGER,
    memory_bytes  INTEGER,
    proof_bytes   INTEGER,
    verify_ms     INTEGER,
    reward        REAL    NOT NULL,
    score_after   REAL    NOT NULL,
    input_digest  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_miner ON requests (uid, hotkey, id);
CREATE INDEX IF NOT EXISTS requests_by_model ON requests (model_id, first_slice, last_slice, success);
CREATE INDEX IF NOT EXISTS requests_by_challenge ON requests (challenge_id);
-- Digests of every challenge input ever sent: an input is never reused.
CREATE TABLE IF NOT EXISTS inputs (
    digest BLOB PRIMARY KEY,
    ts_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS weights (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms       INTEGER NOT NULL,
    block       INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    uids        TEXT    NOT NULL,
    vals        TEXT    NOT NULL,
    version_key INTEGER NOT NULL,
    tx_hash     TEXT    NOT NULL,
    block_hash  TEXT    NOT NULL
);
-- A commit_weights whose reveal is still due (at most one at a time).
CREATE TABLE IF NOT EXISTS pending_commit (
    hash         BLOB PRIMARY KEY,
    netuid       INTEGER NOT NULL,
    uids         TEXT    NOT NULL,
    vals         TEXT    NOT NULL,
    salt         TEXT    NOT NULL,
    version_key  INTEGER NOT NULL,
    commit_block INTEGER NOT NULL,
    ts_ms        INTEGER NOT NULL
);
"#;

/// A request's outcome as stored: `reason` is a short machine-readable
/// class (`timeout`, `invalid_proof`, ...) and `detail` the human text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub id: i64,
    pub ts_ms: i64,
    /// Hex nonce of the challenge; slices of one spread challenge share it.
    pub challenge_id: String,
    pub uid: u16,
    pub hotkey: String,
    pub model_id: String,
    pub model_name: String,
    pub first_slice: u32,
    pub last_slice: u32,
    pub success: bool,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub latency_ms: Option<u64>,
    pub prove_time_ms: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub proof_bytes: Option<u64>,
    pub verify_ms: Option<u64>,
    pub reward: f64,
    pub score_after: f64,
    pub input_digest: String,
}

/// A miner's running score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreRow {
    pub uid: u16,
    pub hotkey: String,
    pub score: f64,
    pub successes: u64,
    pub failures: u64,
    pub last_seen_ms: i64,
}

/// One weights extrinsic: `kind` is `set`, `commit` or `reveal`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsRecord {
    pub id: i64,
    pub ts_ms: i64,
    pub block: u64,
    pub kind: String,
    pub uids: Vec<u16>,
    pub values: Vec<u16>,
    pub version_key: u64,
    pub tx_hash: String,
    pub block_hash: String,
}

/// A commit whose reveal is due later.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCommit {
    pub hash: [u8; 32],
    pub netuid: u16,
    pub uids: Vec<u16>,
    pub values: Vec<u16>,
    pub salt: Vec<u16>,
    pub version_key: u64,
    pub commit_block: u64,
    pub ts_ms: i64,
}

/// One row of the dashboard's miners table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinerSummary {
    pub uid: u16,
    pub hotkey: String,
    pub score: f64,
    pub successes: u64,
    pub failures: u64,
    /// successes / (successes + failures); `None` before any request.
    pub validity_rate: Option<f64>,
    pub latency_median_ms: Option<u64>,
    pub latency_p95_ms: Option<u64>,
    pub memory_median_bytes: Option<u64>,
    pub proof_bytes_median: Option<u64>,
    pub last_seen_ms: i64,
    /// This uid's value in the latest `set` or `reveal` (0 when absent).
    pub weight: u16,
    /// `weight` as a share of that weight vector's sum.
    pub weight_share: f64,
}

/// One challenge: its requests (one per slice range and miner).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChallengeSummary {
    pub challenge_id: String,
    pub ts_ms: i64,
    pub model_name: String,
    pub requests: Vec<RequestRecord>,
}

/// The database handle; cheap to share behind an `Arc`.
pub struct Store {
    conn: Mutex<Connection>,
}

fn to_u64(v: Option<i64>) -> Option<u64> {
    v.and_then(|x| u64::try_from(x).ok())
}

fn from_u64(v: Option<u64>) -> Option<i64> {
    v.map(|x| i64::try_from(x).unwrap_or(i64::MAX))
}

fn join_u16(v: &[u16]) -> String {
    v.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
}

fn split_u16(s: &str) -> Result<Vec<u16>> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|x| {
            x.parse::<u16>()
                .map_err(|_| StoreError::Corrupt(format!("'{s}' is not a list of u16")))
        })
        .collect()
}

fn u16_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<u16> {
    let v: i64 = row.get(idx)?;
    u16::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

fn u32_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<u32> {
    let v: i64 = row.get(idx)?;
    u32::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

fn u64_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = row.get(idx)?;
    u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

const REQUEST_COLUMNS: &str = "id, ts_ms, challenge_id, uid, hotkey, model_id, model_name, \
     first_slice, last_slice, success, reason, detail, latency_ms, prove_time_ms, \
     memory_bytes, proof_bytes, verify_ms, reward, score_after, input_digest";

fn request_from_row(row: &Row<'_>) -> rusqlite::Result<RequestRecord> {
    Ok(RequestRecord {
        id: row.get(0)?,
        ts_ms: row.get(1)?,
        challenge_id: row.get(2)?,
        uid: u16_col(row, 3)?,
        hotkey: row.get(4)?,
        model_id: row.get(5)?,
        model_name: row.get(6)?,
        first_slice: u32_col(row, 7)?,
        last_slice: u32_col(row, 8)?,
        success: row.get::<_, i64>(9)? != 0,
        reason: row.get(10)?,
        detail: row.get(11)?,
        latency_ms: to_u64(row.get(12)?),
        prove_time_ms: to_u64(row.get(13)?),
        memory_bytes: to_u64(row.get(14)?),
        proof_bytes: to_u64(row.get(15)?),
        verify_ms: to_u64(row.get(16)?),
        reward: row.get(17)?,
        score_after: row.get(18)?,
        input_digest: row.get(19)?,
    })
}

fn score_from_row(row: &Row<'_>) -> rusqlite::Result<ScoreRow> {
    Ok(ScoreRow {
        uid: u16_col(row, 0)?,
        hotkey: row.get(1)?,
        score: row.get(2)?,
        successes: u64_col(row, 3)?,
        failures: u64_col(row, 4)?,
        last_seen_ms: row.get(5)?,
    })
}

type RawWeights = (i64, i64, i64, String, String, String, i64, String, String);

fn weights_from_raw(r: RawWeights) -> Result<WeightsRecord> {
    let (id, ts_ms, block, kind, uids, vals, version_key, tx_hash, block_hash) = r;
    Ok(WeightsRecord {
        id,
        ts_ms,
        block: u64::try_from(block).map_err(|_| StoreError::Corrupt("negative block".into()))?,
        kind,
        uids: split_u16(&uids)?,
        values: split_u16(&vals)?,
        version_key: u64::try_from(version_key)
            .map_err(|_| StoreError::Corrupt("negative version key".into()))?,
        tx_hash,
        block_hash,
    })
}

/// Nearest-rank percentile of a sorted slice (`p` in 0..=100).
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p.min(100)) * sorted.len() as u64).div_ceil(100);
    let idx = (rank as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[idx])
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Self::init(conn)
    }

    /// A private in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // journal_mode answers with the mode in force (in-memory stays "memory").
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        let found: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match found {
            None => {
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION.to_string()],
                )?;
            }
            Some(v) => {
                let v: i64 = v
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("schema_version '{v}'")))?;
                if v > SCHEMA_VERSION {
                    return Err(StoreError::SchemaTooNew { found: v });
                }
            }
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (an open transaction rolls back on drop), so keep going.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- writes ---------------------------------------------------------------

    /// Records a challenge input digest; `false` if it was ever used before.
    pub fn claim_input(&self, digest: &[u8; 32], ts_ms: i64) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO inputs (digest, ts_ms) VALUES (?1, ?2)",
            params![&digest[..], ts_ms],
        )?;
        Ok(n == 1)
    }

    /// Stores a request and the miner's new score atomically; returns the
    /// request's row id.
    pub fn record(&self, req: &RequestRecord, score: &ScoreRow) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO requests (ts_ms, challenge_id, uid, hotkey, model_id, model_name, \
             first_slice, last_slice, success, reason, detail, latency_ms, prove_time_ms, \
             memory_bytes, proof_bytes, verify_ms, reward, score_after, input_digest) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
             ?17, ?18, ?19)",
            params![
                req.ts_ms,
                req.challenge_id,
                req.uid,
                req.hotkey,
                req.model_id,
                req.model_name,
                req.first_slice,
                req.last_slice,
                req.success,
                req.reason,
                req.detail,
                from_u64(req.latency_ms),
                from_u64(req.prove_time_ms),
                from_u64(req.memory_bytes),
                from_u64(req.proof_bytes),
                from_u64(req.verify_ms),
                req.reward,
                req.score_after,
                req.input_digest,
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO scores (uid, hotkey, score, successes, failures, last_seen_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (uid, hotkey) DO UPDATE SET score = excluded.score, \
             successes = excluded.successes, failures = excluded.failures, \
             last_seen_ms = excluded.last_seen_ms",
            params![
                score.uid,
                score.hotkey,
                score.score,
                from_u64(Some(score.successes)),
                from_u64(Some(score.failures)),
                score.last_seen_ms,
            ],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Appends a weights extrinsic to the history; returns its row id.
    pub fn record_weights(&self, w: &WeightsRecord) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO weights (ts_ms, block, kind, uids, vals, version_key, tx_hash, \
             block_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                w.ts_ms,
                from_u64(Some(w.block)),
                w.kind,
                join_u16(&w.uids),
                join_u16(&w.values),
                from_u64(Some(w.version_key)),
                w.tx_hash,
                w.block_hash,
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Remembers a commit so its reveal survives a restart; replaces any
    /// earlier pending commit.
    pub fn save_pending_commit(&self, c: &PendingCommit) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM pending_commit", [])?;
        tx.execute(
            "INSERT INTO pending_commit (hash, netuid, uids, vals, salt, version_key, \
             commit_block, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                &c.hash[..],
                c.netuid,
                join_u16(&c.uids),
                join_u16(&c.values),
                join_u16(&c.salt),
                from_u64(Some(c.version_key)),
                from_u64(Some(c.commit_block)),
                c.ts_ms,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn clear_pending_commit(&self) -> Result<()> {
        self.conn().execute("DELETE FROM pending_commit", [])?;
        Ok(())
    }

    // ----- reads the validator needs -------------------------------------------------

    pub fn pending_commit(&self) -> Result<Option<PendingCommit>> {
        type Raw = (Vec<u8>, i64, String, String, String, i64, i64, i64);
        let raw: Option<Raw> = self
            .conn()
            .query_row(
                "SELECT hash, netuid, uids, vals, salt, version_key, commit_block, ts_ms \
                 FROM pending_commit LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((hash, netuid, uids, vals, salt, version_key, commit_block, ts_ms)) = raw else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("pending commit: {what}"));
        Ok(Some(PendingCommit {
            hash: hash.try_into().map_err(|_| corrupt("hash length"))?,
            netuid: u16::try_from(netuid).map_err(|_| corrupt("netuid"))?,
            uids: split_u16(&uids)?,
            values: split_u16(&vals)?,
            salt: split_u16(&salt)?,
            version_key: u64::try_from(version_key).map_err(|_| corrupt("version key"))?,
            commit_block: u64::try_from(commit_block).map_err(|_| corrupt("block"))?,
            ts_ms,
        }))
    }

    /// Every miner's score row.
    pub fn scores(&self) -> Result<Vec<ScoreRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT uid, hotkey, score, successes, failures, last_seen_ms FROM scores \
             ORDER BY uid, hotkey",
        )?;
        let rows = stmt.query_map([], score_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The score row of one (uid, hotkey), if it was ever scored.
    pub fn score(&self, uid: u16, hotkey: &str) -> Result<Option<ScoreRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT uid, hotkey, score, successes, failures, last_seen_ms FROM scores \
                 WHERE uid = ?1 AND hotkey = ?2",
                params![uid, hotkey],
                score_from_row,
            )
            .optional()?)
    }

    /// Smallest verified proof for a model's slice range, if any.
    pub fn best_proof_bytes(
        &self,
        model_id: &str,
        first_slice: u32,
        last_slice: u32,
    ) -> Result<Option<u64>> {
        let v: Option<i64> = self.conn().query_row(
            "SELECT MIN(proof_bytes) FROM requests WHERE model_id = ?1 AND first_slice = ?2 \
             AND last_slice = ?3 AND success = 1",
            params![model_id, first_slice, last_slice],
            |r| r.get(0),
        )?;
        Ok(to_u64(v))
    }

    // ----- reads for the dashboard -------------------------------------------------------

    /// Weights history, newest first.
    pub fn weights_history(&self, limit: usize) -> Result<Vec<WeightsRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts_ms, block, kind, uids, vals, version_key, tx_hash, block_hash \
             FROM weights ORDER BY id DESC LIMIT ?1",
        )?;
        let raws = stmt
            .query_map(params![limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<RawWeights>>>()?;
        raws.into_iter().map(weights_from_raw).collect()
    }

    /// The weights now on chain from this validator: the latest `set` or
    /// `reveal` (a bare `commit` changes nothing yet).
    pub fn current_weights(&self) -> Result<Option<WeightsRecord>> {
        let raw: Option<RawWeights> = self
            .conn()
            .query_row(
                "SELECT id, ts_ms, block, kind, uids, vals, version_key, tx_hash, block_hash \
                 FROM weights WHERE kind IN ('set', 'reveal') ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                },
            )
            .optional()?;
        raw.map(weights_from_raw).transpose()
    }

    /// Requests newest first, optionally of one uid only.
    pub fn recent_requests(&self, uid: Option<u16>, limit: usize) -> Result<Vec<RequestRecord>> {
        let conn = self.conn();
        let rows = match uid {
            Some(uid) => {
                let mut stmt = conn.prepare(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM requests WHERE uid = ?1 \
                     ORDER BY id DESC LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![uid, limit as i64], request_from_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            }
            None => {
                let mut stmt = conn.prepare(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM requests ORDER BY id DESC LIMIT ?1"
                ))?;
                let rows = stmt.query_map(params![limit as i64], request_from_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        Ok(rows)
    }

    /// One miner's request history, newest first.
    pub fn miner_history(&self, uid: u16, limit: usize) -> Result<Vec<RequestRecord>> {
        self.recent_requests(Some(uid), limit)
    }

    /// The latest challenges with their requests, newest first.
    pub fn recent_challenges(&self, limit: usize) -> Result<Vec<ChallengeSummary>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT challenge_id, MIN(ts_ms), MIN(model_name), MAX(id) AS last FROM requests \
             GROUP BY challenge_id ORDER BY last DESC LIMIT ?1",
        )?;
        let heads = stmt
            .query_map(params![limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut by_challenge = conn.prepare(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE challenge_id = ?1 \
             ORDER BY first_slice, id"
        ))?;
        let mut out = Vec::with_capacity(heads.len());
        for (challenge_id, ts_ms, model_name) in heads {
            let requests = by_challenge
                .query_map(params![challenge_id], request_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            out.push(ChallengeSummary {
                challenge_id,
                ts_ms,
                model_name,
                requests,
            });
        }
        Ok(out)
    }

    /// The miners table: score, validity rate, median and p95 latency, median
    /// memory and proof size over the last [`STATS_WINDOW`] verified
    /// requests, last seen, and the weight currently set.
    pub fn miners(&self) -> Result<Vec<MinerSummary>> {
        let scores = self.scores()?;
        let weights = self.current_weights()?;
        let total: u64 = weights
            .as_ref()
            .map(|w| w.values.iter().map(|&v| u64::from(v)).sum())
            .unwrap_or(0);
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT latency_ms, memory_bytes, proof_bytes FROM requests \
             WHERE uid = ?1 AND hotkey = ?2 AND success = 1 ORDER BY id DESC LIMIT ?3",
        )?;
        let mut out = Vec::with_capacity(scores.len());
        for s in scores {
            let mut lat = Vec::new();
            let mut mem = Vec::new();
            let mut size = Vec::new();
            let rows = stmt.query_map(params![s.uid, s.hotkey, STATS_WINDOW as i64], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?;
            for row in rows {
                let (l, m, p) = row?;
                lat.extend(to_u64(l));
                mem.extend(to_u64(m));
                size.extend(to_u64(p));
            }
            lat.sort_unstable();
            mem.sort_unstable();
            size.sort_unstable();
            let n = s.successes + s.failures;
            let weight = weights
                .as_ref()
                .and_then(|w| w.uids.iter().position(|&u| u == s.uid).map(|i| w.values[i]))
                .unwrap_or(0);
            out.push(MinerSummary {
                uid: s.uid,
                validity_rate: (n > 0).then(|| s.successes as f64 / n as f64),
                latency_median_ms: percentile(&lat, 50),
                latency_p95_ms: percentile(&lat, 95),
                memory_median_bytes: percentile(&mem, 50),
                proof_bytes_median: percentile(&size, 50),
                weight,
                weight_share: if total > 0 {
                    f64::from(weight) / total as f64
                } else {
                    0.0
                },
                hotkey: s.hotkey,
                score: s.score,
                successes: s.successes,
                failures: s.failures,
                last_seen_ms: s.last_seen_ms,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uid: u16, success: bool, latency: u64, score_after: f64) -> RequestRecord {
        RequestRecord {
            id: 0,
            ts_ms: 1_000 + i64::from(uid),
            challenge_id: format!("c{uid}"),
            uid,
            hotkey: format!("hk{uid}"),
            model_id: "m".into(),
            model_name: "digits_mlp".into(),
            first_slice: 0,
            last_slice: 0,
            success,
            reason: (!success).then(|| "invalid_proof".to_string()),
            detail: (!success).then(|| "slice 0: bad sumcheck".to_string()),
            latency_ms: Some(latency),
            prove_time_ms: success.then_some(latency / 2),
            memory_bytes: success.then_some(5 << 20),
            proof_bytes: success.then_some(40_000 + latency),
            verify_ms: Some(3),
            reward: if success { 0.8 } else { 0.0 },
            score_after,
            input_digest: format!("{uid:064x}"),
        }
    }

    fn score(uid: u16, score: f64, successes: u64, failures: u64) -> ScoreRow {
        ScoreRow {
            uid,
            hotkey: format!("hk{uid}"),
            score,
            successes,
            failures,
            last_seen_ms: 1_000 + i64::from(uid),
        }
    }

    #[test]
    fn round_trip_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite");
        let digest = [7u8; 32];
        {
            let store = Store::open(&path).unwrap();
            assert!(store.claim_input(&digest, 1).unwrap());
            assert!(!store.claim_input(&digest, 2).unwrap(), "reused input");
            let mut ids = Vec::new();
            for (i, lat) in [100u64, 300, 200].into_iter().enumerate() {
                ids.push(
                    store
                        .record(
                            &request(1, true, lat, 0.1 * (i + 1) as f64),
                            &score(1, 0.1 * (i + 1) as f64, i as u64 + 1, 0),
                        )
                        .unwrap(),
                );
            }
            store
                .record(&request(2, false, 50, 0.0), &score(2, 0.0, 0, 1))
                .unwrap();
            store
                .record_weights(&WeightsRecord {
                    id: 0,
                    ts_ms: 5,
                    block: 42,
                    kind: "set".into(),
                    uids: vec![1, 2],
                    values: vec![65535, 0],
                    version_key: 3,
                    tx_hash: "0xab".into(),
                    block_hash: "0xcd".into(),
                })
                .unwrap();
            store
                .save_pending_commit(&PendingCommit {
                    hash: [9; 32],
                    netuid: 2,
                    uids: vec![1],
                    values: vec![65535],
                    salt: vec![1, 2, 3],
                    version_key: 3,
                    commit_block: 77,
                    ts_ms: 6,
                })
                .unwrap();
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
            // Dropped here without any explicit close or checkpoint.
        }
        let store = Store::open(&path).unwrap();
        assert!(!store.claim_input(&digest, 3).unwrap(), "input set lost");
        let scores = store.scores().unwrap();
        assert_eq!(
            scores,
            vec![score(1, 0.30000000000000004, 3, 0), score(2, 0.0, 0, 1)]
        );
        let history = store.miner_history(1, 10).unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[0].latency_ms, Some(200), "newest first");
        let mut expected = request(1, true, 200, 0.30000000000000004);
        expected.id = history[0].id;
        assert_eq!(history[0], expected);
        let failed = &store.miner_history(2, 10).unwrap()[0];
        assert_eq!(failed.reason.as_deref(), Some("invalid_proof"));
        assert!(!failed.success);

        let miners = store.miners().unwrap();
        let m1 = &miners[0];
        assert_eq!(m1.uid, 1);
        assert_eq!(m1.validity_rate, Some(1.0));
        assert_eq!(m1.latency_median_ms, Some(200));
        assert_eq!(m1.latency_p95_ms, Some(300));
        assert_eq!(m1.weight, 65535);
        assert_eq!(m1.weight_share, 1.0);
        let m2 = &miners[1];
        assert_eq!(m2.validity_rate, Some(0.0));
        assert_eq!(m2.latency_median_ms, None, "failures have no latency stats");
        assert_eq!(m2.weight, 0);

        let w = store.current_weights().unwrap().unwrap();
        assert_eq!(
            (w.block, w.uids.clone(), w.values.clone()),
            (42, vec![1, 2], vec![65535, 0])
        );
        assert_eq!(store.weights_history(10).unwrap(), vec![w]);
        let pc = store.pending_commit().unwrap().unwrap();
        assert_eq!(
            (pc.hash, pc.salt.clone(), pc.commit_block),
            ([9; 32], vec![1, 2, 3], 77)
        );
        store.clear_pending_commit().unwrap();
        assert!(store.pending_commit().unwrap().is_none());

        assert_eq!(store.best_proof_bytes("m", 0, 0).unwrap(), Some(40_100));
        assert_eq!(store.best_proof_bytes("m", 0, 1).unwrap(), None);
        let challenges = store.recent_challenges(10).unwrap();
        assert_eq!(challenges.len(), 2);
        assert_eq!(challenges[0].challenge_id, "c2");
        assert_eq!(challenges[1].requests.len(), 3);
    }

    #[test]
    fn a_commit_replaces_the_previous_one() {
        let store = Store::open_in_memory().unwrap();
        let mut c = PendingCommit {
            hash: [1; 32],
            netuid: 1,
            uids: vec![],
            values: vec![],
            salt: vec![5],
            version_key: 0,
            commit_block: 1,
            ts_ms: 0,
        };
        store.save_pending_commit(&c).unwrap();
        c.hash = [2; 32];
        store.save_pending_commit(&c).unwrap();
        assert_eq!(store.pending_commit().unwrap().unwrap().hash, [2; 32]);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 95), Some(95));
        assert_eq!(percentile(&v, 100), Some(100));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::SchemaTooNew { found: 99 })
        ));
    }
}
