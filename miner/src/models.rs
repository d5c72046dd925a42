//! The models this miner serves.
//!
//! Models come only from the hash-verified registry: [`Registry::load`]
//! re-hashes every artifact, and [`CompiledModel::from_registry`] re-reads and
//! re-hashes the file it compiles, so a swapped ONNX file is refused, never
//! proved. Compiling is expensive, so each model is compiled once (at start
//! or on first use) and shared; concurrent first uses wait for one compile
//! instead of racing.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use circuits::registry::{ModelEntry, ModelId, Registry};
use circuits::zkml::CompiledModel;

/// Why the served set could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("model '{0}' is not in the registry")]
    NotInRegistry(String),
    #[error("no models to serve: the registry is empty")]
    Empty,
}

/// One served model: its registry entry and, once compiled, its circuits.
pub struct ModelSlot {
    entry: ModelEntry,
    registry: Arc<Registry>,
    compiled: OnceLock<Result<Arc<CompiledModel>, String>>,
}

impl ModelSlot {
    pub fn entry(&self) -> &ModelEntry {
        &self.entry
    }

    /// Number of slices in the model's slice plan.
    pub fn num_slices(&self) -> usize {
        self.entry.slices.len() + 1
    }

    /// Whether a compile has finished (successfully or not).
    pub fn is_compiled(&self) -> bool {
        matches!(self.compiled.get(), Some(Ok(_)))
    }

    /// The compiled model, compiling it on first use. Blocking: call from a
    /// blocking thread. A failed compile is remembered, not retried: the
    /// artifact is pinned by hash, so it would fail the same way again.
    pub fn compiled(&self) -> Result<Arc<CompiledModel>, String> {
        self.compiled
            .get_or_init(|| {
                let t0 = std::time::Instant::now();
                let r = CompiledModel::from_registry(&self.registry, &self.entry)
                    .map(Arc::new)
                    .map_err(|e| format!("model '{}' does not compile: {e}", self.entry.name));
                match &r {
                    Ok(m) => tracing::info!(
                        model = %self.entry.name,
                        slices = m.slices().len(),
                        ms = t0.elapsed().as_millis() as u64,
                        "model compiled"
                    ),
                    Err(e) => tracing::error!(error = %e, "model compile failed"),
                }
                r
            })
            .clone()
    }
}

/// The served models by id.
pub struct ModelStore {
    registry: Arc<Registry>,
    slots: Vec<Arc<ModelSlot>>,
    by_id: HashMap<ModelId, Arc<ModelSlot>>,
}

impl ModelStore {
    /// Serves `only` (names or hex ids) from `registry`, or every model when
    /// `only` is empty.
    pub fn new(registry: Registry, only: &[String]) -> Result<Self, ModelsError> {
        let registry = Arc::new(registry);
        let entries: Vec<ModelEntry> = if only.is_empty() {
            registry.models().to_vec()
        } else {
            only.iter()
                .map(|name| {
                    registry
                        .get(name)
                        .cloned()
                        .map_err(|_| ModelsError::NotInRegistry(name.clone()))
                })
                .collect::<Result<_, _>>()?
        };
        if entries.is_empty() {
            return Err(ModelsError::Empty);
        }
        let slots: Vec<Arc<ModelSlot>> = entries
            .into_iter()
            .map(|entry| {
                Arc::new(ModelSlot {
                    entry,
                    registry: registry.clone(),
                    compiled: OnceLock::new(),
                })
            })
            .collect();
        let by_id = slots.iter().map(|s| (s.entry.id, s.clone())).collect();
        Ok(Self {
            registry,
            slots,
            by_id,
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn slots(&self) -> &[Arc<ModelSlot>] {
        &self.slots
    }

    pub fn get(&self, id: &ModelId) -> Option<&Arc<ModelSlot>> {
        self.by_id.get(id)
    }

    /// Whether the registry knows the id at all (to tell "not served here"
    /// from "no such model" in error messages).
    pub fn in_registry(&self, id: &ModelId) -> bool {
        self.registry.models().iter().any(|m| &m.id == id)
    }

    pub fn loaded(&self) -> usize {
        self.slots.iter().filter(|s| s.is_compiled()).count()
    }

    /// Compiles every served model now, one after another (blocking).
    pub fn compile_all(&self) {
        for s in &self.slots {
            let _ = s.compiled();
        }
    }
}
