//! The speaker-embedding network a window goes through: resemblyzer's GE2E
//! d-vector network ([`crate::encoder`]) or 3D-Speaker's CAM++
//! ([`crate::campplus`]).

use std::fmt;
use std::str::FromStr;

use crate::error::FrontendError;

/// The network that embeds each window.
///
/// ```
/// use uisrnn_frontend::Embedder;
///
/// assert_eq!(Embedder::default(), Embedder::Resemblyzer);
/// let campplus: Embedder = "campplus".parse()?;
/// assert_eq!((campplus.dimension(), campplus.name()), (192, "campplus"));
/// assert!("ecapa".parse::<Embedder>().is_err());
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Embedder {
    /// resemblyzer 0.1.4's GE2E network on 40-band mel spectrograms: 256-dimensional
    /// d-vectors (the dev set's, and the shipped UIS-RNN model's).
    #[default]
    Resemblyzer,
    /// 3D-Speaker's CAM++ on 80-band Kaldi filter banks, mean-normalised over each
    /// window: 192-dimensional embeddings.
    CamPlus,
}

impl Embedder {
    /// Every embedder, in the order the CLI lists them.
    pub const ALL: [Embedder; 2] = [Embedder::Resemblyzer, Embedder::CamPlus];

    /// The dimension of its embeddings.
    pub fn dimension(self) -> usize {
        match self {
            Self::Resemblyzer => crate::encoder::HIDDEN,
            Self::CamPlus => crate::campplus::EMBEDDING,
        }
    }

    /// Its name in the CLI and Python (`resemblyzer`, `campplus`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Resemblyzer => "resemblyzer",
            Self::CamPlus => "campplus",
        }
    }
}

impl fmt::Display for Embedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Embedder {
    type Err = FrontendError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| FrontendError::InvalidConfig {
                name: "embedder",
                reason: format!("{name:?} is not one of resemblyzer, campplus"),
            })
    }
}
