//! Voice activity detection as resemblyzer's `trim_long_silences`: WebRTC's VAD on
//! 30 ms frames, smoothed and dilated. The mask stays on the input's time line, so
//! every window keeps its real time stamps
//! ([`crate::SpeechRegions::from_frame_mask`]).

use webrtc_vad::{SampleRate, Vad, VadMode};

use crate::error::{FrontendError, Result};

/// Samples per VAD frame: 30 ms at 16 kHz.
pub const VAD_FRAME: usize = 480;
/// Width of the moving average over the frame flags.
const MOVING_AVERAGE_WIDTH: usize = 8;
/// Frames added on each side of speech (resemblyzer's `vad_max_silence_length` 6,
/// a dilation by 7 frames).
const DILATION: usize = 3;

/// WebRTC's speech flags (aggressiveness 3, "very aggressive") of consecutive 30 ms
/// frames of 16 kHz audio; a last partial frame is dropped. Samples become 16-bit
/// PCM as resemblyzer makes them: `round(x * 32767)`, half to even, wrapped to 16
/// bits like numpy's cast.
///
/// # Errors
/// [`FrontendError::Backend`] if the detector rejects a frame (it accepts every 30 ms
/// frame at 16 kHz).
pub fn speech_flags(samples: &[f32]) -> Result<Vec<bool>> {
    SpeechFlags::new().push(samples)
}

/// [`speech_flags`] over a stream: samples in pieces of any size, the flags of the
/// frames they complete out (the same flags as for the whole signal).
pub struct SpeechFlags {
    vad: Vad,
    /// The samples of the frame not yet complete.
    pending: Vec<f32>,
    pcm: Vec<i16>,
}

impl Default for SpeechFlags {
    fn default() -> Self {
        Self::new()
    }
}

impl SpeechFlags {
    /// A detector at the start of a stream.
    pub fn new() -> Self {
        Self {
            vad: Vad::new_with_rate_and_mode(SampleRate::Rate16kHz, VadMode::VeryAggressive),
            pending: Vec::with_capacity(VAD_FRAME),
            pcm: vec![0; VAD_FRAME],
        }
    }

    /// Feeds samples; returns the flags of the frames they complete.
    ///
    /// # Errors
    /// As [`speech_flags`].
    pub fn push(&mut self, mut samples: &[f32]) -> Result<Vec<bool>> {
        let mut flags = Vec::with_capacity((self.pending.len() + samples.len()) / VAD_FRAME);
        if !self.pending.is_empty() {
            let take = (VAD_FRAME - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() < VAD_FRAME {
                return Ok(flags);
            }
            let frame = std::mem::take(&mut self.pending);
            flags.push(self.frame(&frame)?);
            self.pending = frame;
            self.pending.clear();
        }
        let mut frames = samples.chunks_exact(VAD_FRAME);
        for frame in frames.by_ref() {
            flags.push(self.frame(frame)?);
        }
        self.pending.extend_from_slice(frames.remainder());
        Ok(flags)
    }

    fn frame(&mut self, frame: &[f32]) -> Result<bool> {
        for (out, &x) in self.pcm.iter_mut().zip(frame) {
            *out = ((x * 32767.0).round_ties_even() as i32) as i16;
        }
        self.vad
            .is_voice_segment(&self.pcm)
            .map_err(|()| FrontendError::Backend("WebRTC VAD rejected a frame".into()))
    }
}

/// Smooths the flags as resemblyzer: a moving average of width 8 (3 frames before,
/// 4 after, zero padded) rounded half to even (so at least 5 of the 8 frames), then
/// a dilation by 3 frames on each side.
///
/// ```
/// use uisrnn_frontend::vad::smooth_flags;
///
/// let mut flags = vec![false; 20];
/// flags[8..13].iter_mut().for_each(|f| *f = true); // 5 speech frames
/// let mask = smooth_flags(&flags);
/// // Frames 8..=11 see all 5 in their window (3 before, 4 after); then 3 more each side.
/// let expected: Vec<bool> = (0..20).map(|i| (5..=14).contains(&i)).collect();
/// assert_eq!(mask, expected);
/// ```
pub fn smooth_flags(flags: &[bool]) -> Vec<bool> {
    let n = flags.len();
    let before = (MOVING_AVERAGE_WIDTH - 1) / 2;
    let after = MOVING_AVERAGE_WIDTH / 2;
    let averaged: Vec<bool> = (0..n)
        .map(|i| {
            let from = i.saturating_sub(before);
            let to = (i + after).min(n - 1);
            let count = flags[from..=to].iter().filter(|&&f| f).count();
            // round(count / 8), half to even: 4/8 rounds to 0.
            2 * count > MOVING_AVERAGE_WIDTH
        })
        .collect();
    (0..n)
        .map(|i| {
            let from = i.saturating_sub(DILATION);
            let to = (i + DILATION).min(n.saturating_sub(1));
            averaged[from..=to].iter().any(|&f| f)
        })
        .collect()
}

/// The speech mask of 16 kHz audio, one flag per 30 ms frame: [`speech_flags`] then
/// [`smooth_flags`].
pub fn speech_mask(samples: &[f32]) -> Result<Vec<bool>> {
    Ok(smooth_flags(&speech_flags(samples)?))
}
