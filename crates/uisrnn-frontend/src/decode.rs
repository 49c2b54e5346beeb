//! Audio files in any common format, decoded with symphonia (pure Rust): WAV
//! (PCM integer and float, WAVE_FORMAT_EXTENSIBLE, RF64 and BW64), FLAC, MP3, OGG
//! Vorbis and AAC in MP4/M4A. Channels are mixed down by averaging; integer samples
//! are scaled as librosa and soundfile scale them (divided by 2^(bits-1)).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, Decoder, DecoderOptions};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::audio::{Audio, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use crate::error::{FrontendError, Result};

/// Reads an audio file of any supported format (chosen by its contents; the
/// extension is only a hint), mixed down to mono at the file's own rate.
///
/// ```no_run
/// let audio = uisrnn_frontend::read_audio("meeting.flac")?;
/// println!("{:.1} s at {} Hz", audio.seconds(), audio.sample_rate);
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
///
/// # Errors
/// [`FrontendError::Io`] when the file cannot be opened;
/// [`FrontendError::UnsupportedFormat`] for a format or codec this crate does not
/// decode; [`FrontendError::InvalidAudio`] for a damaged or truncated file or one
/// whose header claims absurd values; [`FrontendError::Empty`] and
/// [`FrontendError::NonFinite`] as [`Audio::new`].
pub fn read_audio(path: impl AsRef<Path>) -> Result<Audio> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| FrontendError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !file.is_seekable() {
        // A pipe or a device: read it whole, as standard input is read.
        return read_audio_from(file, &path.display().to_string());
    }
    let extension = path.extension().and_then(|e| e.to_str());
    decode(file, extension, path)
}

/// Decodes a whole audio file held in memory (an HTTP body, standard input);
/// `source_name` names it in messages.
///
/// ```
/// # fn wav_bytes() -> Vec<u8> {
/// #     let mut bytes = Vec::new();
/// #     let spec = hound::WavSpec { channels: 1, sample_rate: 16_000, bits_per_sample: 16,
/// #         sample_format: hound::SampleFormat::Int };
/// #     let mut writer = hound::WavWriter::new(std::io::Cursor::new(&mut bytes), spec).unwrap();
/// #     for i in 0..1600 { writer.write_sample((i % 100) as i16).unwrap(); }
/// #     writer.finalize().unwrap();
/// #     bytes
/// # }
/// let audio = uisrnn_frontend::decode_audio(wav_bytes(), "upload")?;
/// assert_eq!(audio.samples.len(), 1600);
/// assert!(uisrnn_frontend::decode_audio(b"not audio".to_vec(), "upload").is_err());
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
///
/// # Errors
/// As [`read_audio`].
pub fn decode_audio(bytes: Vec<u8>, source_name: &str) -> Result<Audio> {
    decode(std::io::Cursor::new(bytes), None, Path::new(source_name))
}

/// Reads a reader to its end (standard input, a socket) and decodes it as
/// [`decode_audio`] does; the whole input is held in memory (an MP4 file's index may
/// sit at its end).
///
/// # Errors
/// [`FrontendError::Io`] when reading fails; those of [`decode_audio`].
pub fn read_audio_from(mut reader: impl Read, source_name: &str) -> Result<Audio> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| FrontendError::Io {
            path: source_name.into(),
            source,
        })?;
    decode_audio(bytes, source_name)
}

/// Decodes a whole file through [`AudioDecoder`].
fn decode<S: MediaSource + 'static>(
    source: S,
    extension: Option<&str>,
    path: &Path,
) -> Result<Audio> {
    let mut decoder = AudioDecoder::new(source, extension, path)?;
    let mut samples = Vec::new();
    while let Some(chunk) = decoder.next_chunk()? {
        samples.extend_from_slice(&chunk);
    }
    Audio::new(samples, decoder.sample_rate(), &path.display().to_string())
}

/// Runs `step`, with a panic inside symphonia (its MP3 demuxer subtracts with
/// overflow on some damaged headers, found by fuzzing: a panic where overflow
/// checks are on, a wrapped value where they are off) turned into
/// [`FrontendError::InvalidAudio`].
fn guarded<T>(path: &Path, step: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or_else(|_| {
        Err(FrontendError::InvalidAudio {
            path: path.to_path_buf(),
            reason: "the decoder failed on damaged data".into(),
        })
    })
}

/// An audio file decoded packet by packet and mixed down to mono: what
/// [`read_audio`] reads whole, in pieces, so that a long recording is never held in
/// memory (a packet is a few thousand samples).
///
/// ```no_run
/// use uisrnn_frontend::decode::AudioDecoder;
///
/// let mut decoder = AudioDecoder::open("four-hour-meeting.flac")?;
/// let mut seconds = 0.0;
/// while let Some(chunk) = decoder.next_chunk()? {
///     seconds += chunk.len() as f64 / decoder.sample_rate() as f64;
/// }
/// println!("{seconds:.0} s");
/// # Ok::<(), uisrnn_frontend::FrontendError>(())
/// ```
pub struct AudioDecoder {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    sample_rate: u32,
    codec_name: &'static str,
    /// The frame count a lossless header promises (a shorter file was cut).
    promised_frames: Option<u64>,
    buffer: Option<SampleBuffer<f32>>,
    /// Mono samples returned so far.
    frames: u64,
    path: PathBuf,
    finished: bool,
}

impl AudioDecoder {
    /// Opens an audio file of any supported format (a pipe or device is read whole
    /// first, as standard input is).
    ///
    /// # Errors
    /// As [`read_audio`], for what the file's header says; damage further in is
    /// found by [`AudioDecoder::next_chunk`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut file = std::fs::File::open(path).map_err(|source| FrontendError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if !file.is_seekable() {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .map_err(|source| FrontendError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            return Self::from_bytes(bytes, &path.display().to_string());
        }
        let extension = path.extension().and_then(|e| e.to_str());
        Self::new(file, extension, path)
    }

    /// Decodes a file held in memory (`Vec<u8>`, `Arc<[u8]>`, ...); `source_name`
    /// names it in messages.
    ///
    /// # Errors
    /// As [`AudioDecoder::open`].
    pub fn from_bytes<B>(bytes: B, source_name: &str) -> Result<Self>
    where
        B: AsRef<[u8]> + Send + Sync + 'static,
    {
        Self::new(std::io::Cursor::new(bytes), None, Path::new(source_name))
    }

    fn new<S: MediaSource + 'static>(
        source: S,
        extension: Option<&str>,
        path: &Path,
    ) -> Result<Self> {
        guarded(path, || Self::new_unguarded(source, extension, path))
    }

    fn new_unguarded<S: MediaSource + 'static>(
        mut source: S,
        extension: Option<&str>,
        path: &Path,
    ) -> Result<Self> {
        let invalid = |reason: String| FrontendError::InvalidAudio {
            path: path.to_path_buf(),
            reason,
        };
        check_flac_comments(&mut source, path)?;
        check_mp4_boxes(&mut source, path)?;
        let stream: Box<dyn MediaSource> = match rf64_as_riff(&mut source, path)? {
            Some(header) => {
                Box::new(PatchedHeader::new(source, header).map_err(|e| invalid(e.to_string()))?)
            }
            None => Box::new(source),
        };
        Self::from_stream(stream, extension, path, false)
    }

    /// A WAV file read as it arrives (standard input from a recorder, a socket),
    /// without seeking: its packets come as their bytes do. The header of a live
    /// recording cannot know its length, so a stream that ends early is not an
    /// error. Only WAV: the other formats' checks against hostile headers need to
    /// look ahead, and MP4 keeps its index at the end.
    ///
    /// # Errors
    /// [`FrontendError::UnsupportedFormat`] for anything but a RIFF WAV;
    /// [`FrontendError::Io`] when reading fails; those of [`AudioDecoder::open`].
    pub fn live<R>(mut reader: R, source_name: &str) -> Result<Self>
    where
        R: Read + Send + Sync + 'static,
    {
        let path = Path::new(source_name);
        let mut magic = [0_u8; 4];
        reader
            .read_exact(&mut magic)
            .map_err(|source| FrontendError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if &magic != b"RIFF" {
            return Err(FrontendError::UnsupportedFormat {
                path: path.to_path_buf(),
                format: "a live stream must be WAV (RIFF)".into(),
            });
        }
        let source = ReadOnlySource::new(std::io::Cursor::new(magic).chain(reader));
        guarded(path, || {
            Self::from_stream(Box::new(source), Some("wav"), path, true)
        })
    }

    fn from_stream(
        stream: Box<dyn MediaSource>,
        extension: Option<&str>,
        path: &Path,
        live: bool,
    ) -> Result<Self> {
        let invalid = |reason: String| FrontendError::InvalidAudio {
            path: path.to_path_buf(),
            reason,
        };
        let unsupported = |format: String| FrontendError::UnsupportedFormat {
            path: path.to_path_buf(),
            format,
        };
        let stream = MediaSourceStream::new(stream, Default::default());
        let mut hint = Hint::new();
        if let Some(extension) = extension {
            hint.with_extension(extension);
        }
        let options = FormatOptions {
            // Drops MP3's and Vorbis's encoder delay and padding, as ffmpeg and
            // soundfile do, so that times match the original recording.
            enable_gapless: true,
            ..Default::default()
        };
        let probed = symphonia::default::get_probe()
            .format(&hint, stream, &options, &MetadataOptions::default())
            .map_err(|e| match e {
                DecodeError::Unsupported(_) => unsupported(
                    "not a container this crate reads (WAV, FLAC, MP3, OGG, MP4/M4A)".into(),
                ),
                other => invalid(describe(&other)),
            })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| invalid("no audio track".into()))?;
        let track_id = track.id;
        let params = track.codec_params.clone();
        let codecs = symphonia::default::get_codecs();
        let codec_name = codecs
            .get_codec(params.codec)
            .map(|d| d.short_name)
            .ok_or_else(|| unsupported("an audio codec this crate does not decode".into()))?;
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| invalid("the header gives no sample rate".into()))?;
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(invalid(format!(
                "the header claims {sample_rate} Hz, outside {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz"
            )));
        }
        if params.channels.is_some_and(|c| c.count() == 0) {
            return Err(invalid("zero channels".into()));
        }
        let decoder = codecs
            .make(&params, &DecoderOptions::default())
            .map_err(|e| unsupported(format!("{codec_name}: {}", describe(&e))))?;
        let lossless = codec_name.starts_with("pcm") || codec_name == "flac";
        Ok(Self {
            format,
            decoder,
            track_id,
            sample_rate,
            codec_name,
            promised_frames: params.n_frames.filter(|_| lossless && !live),
            buffer: None,
            frames: 0,
            path: path.to_path_buf(),
            finished: false,
        })
    }

    /// The file's sampling rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The file's name, as messages give it.
    pub fn source_name(&self) -> String {
        self.path.display().to_string()
    }

    /// The next packet's mono samples (never empty), or `None` at the end of the
    /// file.
    ///
    /// # Errors
    /// [`FrontendError::InvalidAudio`] for damaged or truncated data (a lossless
    /// file shorter than its header says is found at its end);
    /// [`FrontendError::UnsupportedFormat`] for a stream whose format changes
    /// midway; [`FrontendError::NonFinite`] for a NaN or infinite sample;
    /// [`FrontendError::Empty`] for a file with no samples. After an error or the
    /// end, `None`.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<f32>>> {
        if self.finished {
            return Ok(None);
        }
        let path = self.path.clone();
        let result = guarded(&path, || self.next_unguarded());
        if !matches!(result, Ok(Some(_))) {
            self.finished = true;
        }
        result
    }

    fn next_unguarded(&mut self) -> Result<Option<Vec<f32>>> {
        let path = &self.path;
        let invalid = |reason: String| FrontendError::InvalidAudio {
            path: path.clone(),
            reason,
        };
        let codec_name = self.codec_name;
        loop {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(DecodeError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.end().map(|()| None);
                }
                Err(DecodeError::ResetRequired) => {
                    return Err(FrontendError::UnsupportedFormat {
                        path: path.clone(),
                        format: "a stream whose format changes midway".into(),
                    });
                }
                Err(other) => return Err(invalid(describe(&other))),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let decoded = self
                .decoder
                .decode(&packet)
                .map_err(|e| invalid(format!("{codec_name}: {}", describe(&e))))?;
            let spec = *decoded.spec();
            let channels = spec.channels.count();
            if spec.rate != self.sample_rate {
                return Err(invalid(format!(
                    "the sample rate changes from {} to {} Hz midway",
                    self.sample_rate, spec.rate
                )));
            }
            if channels == 0 {
                return Err(invalid("zero channels".into()));
            }
            let frames = decoded.frames();
            if frames == 0 {
                continue;
            }
            let buffer = match &mut self.buffer {
                Some(b) if b.capacity() >= frames * channels => b,
                slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
            };
            buffer.copy_interleaved_ref(decoded);
            let interleaved = &buffer.samples()[..frames * channels];
            let mono: Vec<f32> = if channels == 1 {
                interleaved.to_vec()
            } else {
                interleaved
                    .chunks_exact(channels)
                    .map(|frame| frame.iter().sum::<f32>() / channels as f32)
                    .collect()
            };
            if let Some(at) = mono.iter().position(|x| !x.is_finite()) {
                return Err(FrontendError::NonFinite {
                    source_name: path.display().to_string(),
                    index: self.frames as usize + at,
                });
            }
            self.frames += mono.len() as u64;
            return Ok(Some(mono));
        }
    }

    /// The checks of a file's end: lossless formats say how many frames they hold
    /// (fewer means the file was cut), and a file needs a sample.
    fn end(&self) -> Result<()> {
        if let Some(expected) = self.promised_frames
            && self.frames < expected
        {
            return Err(FrontendError::InvalidAudio {
                path: self.path.clone(),
                reason: format!(
                    "truncated: the header promises {expected} frames, the file holds {}",
                    self.frames
                ),
            });
        }
        if self.frames == 0 {
            return Err(FrontendError::Empty {
                source_name: self.path.display().to_string(),
            });
        }
        Ok(())
    }
}

/// symphonia's error as a sentence (its I/O errors say "end of file" for a cut
/// file).
fn describe(error: &DecodeError) -> String {
    match error {
        DecodeError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated: the file ends inside its header or data".into()
        }
        other => other.to_string(),
    }
}

/// Refuses a FLAC file whose Vorbis comment claims more bytes than its metadata
/// block holds, before symphonia sees it: symphonia 0.5.5 allocates each comment's
/// claimed length (up to 4 GiB) before reading it (found by fuzzing). Other files
/// pass untouched; the source is left at its start.
fn check_flac_comments<S: Read + Seek>(source: &mut S, path: &Path) -> Result<()> {
    let io = |source: std::io::Error| FrontendError::Io {
        path: PathBuf::from(path),
        source,
    };
    let invalid = || FrontendError::InvalidAudio {
        path: path.to_path_buf(),
        reason: "FLAC: a Vorbis comment claims more bytes than its metadata block holds".into(),
    };
    let mut magic = [0_u8; 4];
    let is_flac = source.read_exact(&mut magic).is_ok() && &magic == b"fLaC";
    if is_flac {
        // Metadata blocks: a 4-byte header (last-block flag, 7-bit type, 24-bit
        // length), then the block; type 4 is the Vorbis comment.
        loop {
            let mut header = [0_u8; 4];
            if source.read_exact(&mut header).is_err() {
                break;
            }
            let length = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
            if header[0] & 0x7f == 4 {
                let mut block = Vec::with_capacity(length.min(1 << 24));
                source
                    .by_ref()
                    .take(length as u64)
                    .read_to_end(&mut block)
                    .map_err(io)?;
                if !vorbis_comment_fits(&block) {
                    return Err(invalid());
                }
            } else {
                source.seek(SeekFrom::Current(length as i64)).map_err(io)?;
            }
            if header[0] & 0x80 != 0 {
                break;
            }
        }
    }
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

/// Refuses an MP4 file whose boxes do not fit in their parents or whose sample
/// tables claim more entries than their box holds, before symphonia sees it:
/// symphonia 0.5.5 reserves memory for a table's claimed entry count (found by
/// fuzzing: 34 GB asked for by a 2 KB file, an abort). Other files pass untouched;
/// the source is left at its start.
fn check_mp4_boxes<S: Read + Seek>(source: &mut S, path: &Path) -> Result<()> {
    let io = |source: std::io::Error| FrontendError::Io {
        path: PathBuf::from(path),
        source,
    };
    let len = source.seek(SeekFrom::End(0)).map_err(io)?;
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut head = [0_u8; 8];
    let is_mp4 = source.read_exact(&mut head).is_ok() && &head[4..8] == b"ftyp";
    if is_mp4 {
        let mut boxes = 0_usize;
        walk_mp4_boxes(source, 0, len, 0, &mut boxes).map_err(|reason| {
            FrontendError::InvalidAudio {
                path: path.to_path_buf(),
                reason: format!("MP4: {reason}"),
            }
        })?;
    }
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

/// Checks the boxes between byte `start` and `end`, descending into containers.
fn walk_mp4_boxes<S: Read + Seek>(
    source: &mut S,
    start: u64,
    end: u64,
    depth: usize,
    boxes: &mut usize,
) -> std::result::Result<(), String> {
    const CONTAINERS: [&[u8; 4]; 11] = [
        b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"moof", b"traf", b"mvex", b"udta",
        b"dinf",
    ];
    let io = |e: std::io::Error| format!("cannot read a box header: {e}");
    if depth > 16 {
        return Err("boxes nested more than 16 deep".into());
    }
    let mut at = start;
    while at + 8 <= end {
        *boxes += 1;
        if *boxes > 100_000 {
            return Err("more than 100,000 boxes".into());
        }
        source.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut header = [0_u8; 8];
        source.read_exact(&mut header).map_err(io)?;
        let kind: [u8; 4] = header[4..8].try_into().expect("four bytes");
        let (size, header_len) =
            match u32::from_be_bytes(header[0..4].try_into().expect("four bytes")) {
                0 => (end - at, 8),
                1 => {
                    let mut large = [0_u8; 8];
                    source.read_exact(&mut large).map_err(io)?;
                    (u64::from_be_bytes(large), 16)
                }
                size => (u64::from(size), 8),
            };
        if size < header_len || size > end - at {
            return Err(format!(
                "box {} claims {size} bytes, more than the {} its parent holds",
                String::from_utf8_lossy(&kind),
                end - at
            ));
        }
        let payload = size - header_len;
        // (entry-count offset in the payload, bytes per entry, its table's start).
        let table = match &kind {
            b"stts" | b"ctts" => Some((4, 8, 8)),
            b"stsc" => Some((4, 12, 8)),
            b"stco" | b"stss" => Some((4, 4, 8)),
            b"co64" => Some((4, 8, 8)),
            b"stsz" => Some((8, 4, 12)),
            _ => None,
        };
        if let Some((count_at, entry, table_at)) = table {
            let mut fields = [0_u8; 12];
            let wanted = (count_at + 4).max(8);
            if payload < wanted as u64 {
                return Err(format!(
                    "box {} is too short",
                    String::from_utf8_lossy(&kind)
                ));
            }
            source.read_exact(&mut fields[..wanted]).map_err(io)?;
            let count = u64::from(u32::from_be_bytes(
                fields[count_at..count_at + 4]
                    .try_into()
                    .expect("four bytes"),
            ));
            // stsz lists sizes only when its common sample size is 0.
            let listed = kind != *b"stsz" || fields[4..8] == [0; 4];
            if listed && count * entry > payload.saturating_sub(table_at) {
                return Err(format!(
                    "box {} claims {count} entries, more than its {payload} bytes hold",
                    String::from_utf8_lossy(&kind)
                ));
            }
        }
        if CONTAINERS.contains(&&kind) {
            walk_mp4_boxes(source, at + header_len, at + size, depth + 1, boxes)?;
        }
        at += size;
    }
    Ok(())
}

/// Whether every length inside a Vorbis comment block (vendor string, count,
/// comments, all little-endian u32) stays within the block.
fn vorbis_comment_fits(block: &[u8]) -> bool {
    let mut at = 0_usize;
    let take_u32 = |at: &mut usize| -> Option<usize> {
        let bytes = block.get(*at..*at + 4)?;
        *at += 4;
        Some(u32::from_le_bytes(bytes.try_into().ok()?) as usize)
    };
    let Some(vendor) = take_u32(&mut at) else {
        return false;
    };
    at = match at.checked_add(vendor) {
        Some(next) if next <= block.len() => next,
        _ => return false,
    };
    let Some(count) = take_u32(&mut at) else {
        return false;
    };
    for _ in 0..count {
        let Some(length) = take_u32(&mut at) else {
            return false;
        };
        at = match at.checked_add(length) {
            Some(next) if next <= block.len() => next,
            _ => return false,
        };
    }
    true
}

/// The first bytes of an RF64 (or BW64) file rewritten as a RIFF header that
/// symphonia reads: the 64-bit sizes of the `ds64` chunk moved into the 32-bit
/// fields, `ds64` renamed `JUNK`. `None` for any other file. RF64 data over 4 GiB
/// (18 hours of 16 kHz stereo 32-bit float) is refused.
fn rf64_as_riff<S: Read + Seek>(source: &mut S, path: &Path) -> Result<Option<Vec<u8>>> {
    let invalid = |reason: &str| FrontendError::InvalidAudio {
        path: path.to_path_buf(),
        reason: format!("RF64: {reason}"),
    };
    let io = |source: std::io::Error| FrontendError::Io {
        path: PathBuf::from(path),
        source,
    };
    // A WAV header with its chunks before the data fits in a few KiB; 64 KiB allows
    // for long metadata chunks.
    let mut head = Vec::new();
    source
        .by_ref()
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(io)?;
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    if head.len() < 12 || !matches!(&head[0..4], b"RF64" | b"BW64") || &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let u32_at = |at: usize| u32::from_le_bytes(head[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(head[at..at + 8].try_into().unwrap());
    if head.len() < 36 || &head[12..16] != b"ds64" {
        return Err(invalid("the ds64 chunk does not follow the header"));
    }
    let ds64_len = u32_at(16) as usize;
    if ds64_len < 24 {
        return Err(invalid("the ds64 chunk is too short"));
    }
    let (riff_size, data_size) = (u64_at(20), u64_at(28));
    let fits =
        |size: u64| u32::try_from(size).map_err(|_| invalid("data over 4 GiB is not supported"));
    let (riff_size, data_size) = (fits(riff_size)?, fits(data_size)?);
    let mut patched = head;
    patched[0..4].copy_from_slice(b"RIFF");
    patched[4..8].copy_from_slice(&riff_size.to_le_bytes());
    patched[12..16].copy_from_slice(b"JUNK");
    // Walk the chunks to the data chunk, whose size field holds 0xFFFFFFFF.
    let mut at = 20 + ds64_len + (ds64_len & 1);
    while at + 8 <= patched.len() {
        let len = u32::from_le_bytes(patched[at + 4..at + 8].try_into().unwrap());
        if &patched[at..at + 4] == b"data" {
            patched[at + 4..at + 8].copy_from_slice(&data_size.to_le_bytes());
            patched.truncate(at + 8);
            return Ok(Some(patched));
        }
        at += 8 + len as usize + (len as usize & 1);
    }
    Err(invalid("no data chunk in the first 64 KiB"))
}

/// A stream whose first bytes are replaced by `header` (same length or shorter than
/// what they replace: here the same).
struct PatchedHeader<S> {
    inner: S,
    header: Vec<u8>,
    position: u64,
    len: u64,
}

impl<S: Read + Seek> PatchedHeader<S> {
    fn new(mut inner: S, header: Vec<u8>) -> std::io::Result<Self> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Self {
            inner,
            header,
            position: 0,
            len,
        })
    }
}

impl<S: Read + Seek> Read for PatchedHeader<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = if let Some(rest) = self
            .header
            .get(self.position as usize..)
            .filter(|r| !r.is_empty())
        {
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.inner.seek(SeekFrom::Current(n as i64))?;
            n
        } else {
            self.inner.read(buf)?
        };
        self.position += read as u64;
        Ok(read)
    }
}

impl<S: Read + Seek> Seek for PatchedHeader<S> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.position = self.inner.seek(to)?;
        Ok(self.position)
    }
}

impl<S: Read + Seek + Send + Sync> MediaSource for PatchedHeader<S> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}
