//! A minimal CLAP host on `clack-host` that loads a built Auralis library and drives it as a
//! DAW does: instances, parameters, state, latency, activation and processing.

#![allow(dead_code)]
use std::cell::Cell;
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use clack_extensions::audio_ports::{
    AudioPortFlags, AudioPortInfoBuffer, AudioPortRescanFlags, AudioPortType, HostAudioPorts,
    HostAudioPortsImpl, PluginAudioPorts,
};
use clack_extensions::audio_ports_config::PluginAudioPortsConfig;
use clack_extensions::latency::{HostLatency, HostLatencyImpl, PluginLatency};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamInfoFlags, ParamRescanFlags, PluginParams,
};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::{HostState, HostStateImpl, PluginState};
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

pub const PLUGIN_ID: &CStr = c"dev.auralis.mastering";
pub const SAMPLE_RATES: [f64; 3] = [44_100.0, 48_000.0, 96_000.0];
/// The host's largest block, passed to `activate`.
pub const MAX_FRAMES: u32 = 8192;
/// Block lengths a host may use, in the order they are sent (the last ones exceed the engine's
/// internal block and reach the host's maximum).
pub const BLOCK_SIZES: [usize; 6] = [1, 17, 64, 512, 4096, 8192];
/// How close a transparent output must be to the delayed input.
pub const TRANSPARENT_TOLERANCE: f32 = 1e-6;

// ---------------------------------------------------------------------------------------------
// The host: a minimal one that records only what the tests check.

/// Thread-safe host callbacks.
#[derive(Default)]
pub struct HostShared {
    /// The plugin asked for `on_main_thread` to be called.
    pub callback_requested: AtomicBool,
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {}
}

/// Main-thread host callbacks.
pub struct HostMainThread {
    /// Every `params.rescan` flag the plugin has sent.
    pub param_rescans: Cell<ParamRescanFlags>,
}

impl MainThreadHandler<'_> for HostMainThread {}

impl HostLatencyImpl for HostMainThread {
    fn changed(&self) {}
}

impl HostParamsImplMainThread for HostMainThread {
    fn rescan(&self, flags: ParamRescanFlags) {
        self.param_rescans.set(self.param_rescans.get() | flags);
    }
    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

impl HostStateImpl for HostMainThread {
    fn mark_dirty(&self) {}
}

impl HostAudioPortsImpl for HostMainThread {
    fn is_rescan_flag_supported(&self, _flag: AudioPortRescanFlags) -> bool {
        false
    }
    fn rescan(&self, _flags: AudioPortRescanFlags) {}
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLatency>()
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostAudioPorts>();
    }
}

// ---------------------------------------------------------------------------------------------
// Loading and driving the plugin.

pub fn bundle_path() -> PathBuf {
    let path = std::env::var_os("AURALIS_CLAP").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Auralis.clap"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "no CLAP bundle at {}: build it with: cargo xtask bundle auralis --release \
         (or point $AURALIS_CLAP at one)",
        path.display()
    );
    path
}

/// Loads the bundle's entry; dropping the last reference unloads the library.
pub fn load_entry_uncached() -> PluginEntry {
    let path = bundle_path();
    // SAFETY: the bundle is our own plugin, built by nice-plug's CLAP wrapper.
    unsafe { PluginEntry::load(&path) }
        .unwrap_or_else(|e| panic!("cannot load the CLAP entry {}: {e}", path.display()))
}

/// The bundle's entry, loaded once and kept loaded for the whole test run, as a DAW does.
///
/// Unloading it is not safe while a thread that created an instance is still alive (see
/// `unloading_the_library_does_not_crash_threads_that_used_it`): loading it per test made the
/// parallel test run crash intermittently.
/// Loads the plugin library at `path` once and keeps it loaded for the whole test run.
pub fn load_library(path: &std::path::Path) -> &'static PluginEntry {
    static LIBRARY: OnceLock<PluginEntry> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        // SAFETY: the library is our own plugin, built by nice-plug's CLAP wrapper.
        unsafe { PluginEntry::load(path) }
            .unwrap_or_else(|e| panic!("cannot load the CLAP entry {}: {e}", path.display()))
    })
}

pub fn load_entry() -> &'static PluginEntry {
    static ENTRY: OnceLock<PluginEntry> = OnceLock::new();
    ENTRY.get_or_init(load_entry_uncached)
}

/// One parameter as the params extension describes it. Values are CLAP values: normalized 0..1
/// for continuous parameters, 0..=steps for stepped ones (nice-plug's convention).
#[derive(Debug, Clone)]
pub struct Param {
    pub id: ClapId,
    pub name: String,
    pub module: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    pub flags: ParamInfoFlags,
}

impl Param {
    pub fn is_stepped(&self) -> bool {
        self.flags.contains(ParamInfoFlags::IS_STEPPED)
    }

    /// The distance between two values relative to the parameter's range (so 0..1 for all).
    pub fn normalized_distance(&self, a: f64, b: f64) -> f64 {
        (a - b).abs() / (self.max - self.min)
    }
}

/// A plugin instance with the extensions these tests use.
pub struct Plugin {
    pub instance: PluginInstance<TestHost>,
    pub params: PluginParams,
    pub state: PluginState,
    pub latency: PluginLatency,
    pub audio_ports: PluginAudioPorts,
    pub render: Option<PluginRender>,
}

impl Plugin {
    pub fn new() -> Self {
        Self::from_entry(load_entry())
    }

    pub fn from_entry(entry: &PluginEntry) -> Self {
        let host_info = HostInfo::new(
            "Auralis test host",
            "Auralis",
            "https://example.invalid",
            "0.1.0",
        )
        .unwrap();
        let mut instance = PluginInstance::<TestHost>::new(
            |_| HostShared::default(),
            |_| HostMainThread {
                param_rescans: Cell::new(ParamRescanFlags::empty()),
            },
            entry,
            PLUGIN_ID,
            &host_info,
        )
        .expect("cannot create a plugin instance");
        let handle = instance.plugin_handle();
        let params = handle.get_extension().expect("no params extension");
        let state = handle.get_extension().expect("no state extension");
        let latency = handle.get_extension().expect("no latency extension");
        let audio_ports = handle.get_extension().expect("no audio-ports extension");
        let render = handle.get_extension();
        Self {
            instance,
            params,
            state,
            latency,
            audio_ports,
            render,
        }
    }

    pub fn params(&mut self) -> Vec<Param> {
        let handle = self.instance.plugin_handle();
        let count = self.params.count(&handle);
        (0..count)
            .map(|index| {
                let mut buffer = ParamInfoBuffer::new();
                let info = self
                    .params
                    .get_info(&handle, index, &mut buffer)
                    .unwrap_or_else(|| panic!("no info for parameter {index}"));
                Param {
                    id: info.id,
                    name: String::from_utf8_lossy(info.name).into_owned(),
                    module: String::from_utf8_lossy(info.module).into_owned(),
                    min: info.min_value,
                    max: info.max_value,
                    default: info.default_value,
                    flags: info.flags,
                }
            })
            .collect()
    }

    pub fn param(&mut self, name: &str) -> Param {
        self.params()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no parameter named {name:?}"))
    }

    pub fn value(&mut self, param: &Param) -> f64 {
        self.params
            .get_value(&self.instance.plugin_handle(), param.id)
            .unwrap_or_else(|| panic!("no value for {}", param.name))
    }

    pub fn value_text(&mut self, param: &Param, value: f64) -> String {
        let mut buffer = [0u8; 256];
        let text = self
            .params
            .value_to_text(&self.instance.plugin_handle(), param.id, value, &mut buffer)
            .unwrap_or_else(|_| panic!("no text for {} = {value}", param.name));
        String::from_utf8_lossy(text).into_owned()
    }

    /// Switches the plugin to offline rendering (a host's bounce), before activation.
    pub fn set_offline(&mut self) {
        let render = self.render.expect("no render extension");
        render
            .set(&self.instance.plugin_handle(), RenderMode::Offline)
            .expect("the plugin refused offline rendering");
    }

    /// Back to realtime rendering (the default), as a host does after an export.
    pub fn set_realtime(&mut self) {
        let render = self.render.expect("no render extension");
        render
            .set(&self.instance.plugin_handle(), RenderMode::Realtime)
            .expect("the plugin refused realtime rendering");
    }

    pub fn latency(&mut self) -> usize {
        self.latency.get(&self.instance.plugin_handle()) as usize
    }

    /// (channel count, port type) of the single main port in each direction.
    pub fn main_port(&mut self, is_input: bool) -> (u32, Option<String>) {
        let handle = self.instance.plugin_handle();
        assert_eq!(self.audio_ports.count(&handle, is_input), 1, "port count");
        let mut buffer = AudioPortInfoBuffer::new();
        let port = self
            .audio_ports
            .get(&handle, 0, is_input, &mut buffer)
            .expect("no port info");
        assert!(
            port.flags.contains(AudioPortFlags::IS_MAIN),
            "not a main port"
        );
        let port_type = port
            .port_type
            .map(|AudioPortType(t)| t.to_string_lossy().into_owned());
        (port.channel_count, port_type)
    }

    pub fn save_state(&mut self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.state
            .save(&self.instance.plugin_handle(), &mut bytes)
            .expect("state save failed");
        bytes
    }

    pub fn load_state(&mut self, mut bytes: &[u8]) {
        self.state
            .load(&self.instance.plugin_handle(), &mut bytes)
            .expect("state load failed");
    }

    /// Loads `bytes` as a host does, returning whether the plugin accepted them.
    pub fn try_load_state(&mut self, mut bytes: &[u8]) -> bool {
        self.state
            .load(&self.instance.plugin_handle(), &mut bytes)
            .is_ok()
    }

    /// Every `params.rescan` flag the plugin has sent to this host so far.
    pub fn param_rescans(&self) -> ParamRescanFlags {
        self.instance.access_handler(|h| h.param_rescans.get())
    }

    /// Activates for stereo at `sample_rate` and starts processing.
    pub fn activate(&mut self, sample_rate: f64) -> Processor {
        self.activate_with(sample_rate, MAX_FRAMES, 2)
    }

    /// Activates for `channels` (1: selects the mono port configuration) at `sample_rate` with
    /// blocks of up to `max_frames`, and starts processing.
    pub fn activate_with(
        &mut self,
        sample_rate: f64,
        max_frames: u32,
        channels: usize,
    ) -> Processor {
        assert!(channels == 1 || channels == 2);
        let configs: PluginAudioPortsConfig = self
            .instance
            .plugin_handle()
            .get_extension()
            .expect("no audio-ports-config extension");
        // nice-plug's configuration ids are the indices of `AUDIO_IO_LAYOUTS`: stereo, mono.
        configs
            .select(
                &self.instance.plugin_handle(),
                ClapId::new(2 - channels as u32),
            )
            .expect("the plugin refused the port configuration");
        self.run_main_thread_callbacks();
        assert_eq!(
            self.main_port(false).0 as usize,
            channels,
            "output channels"
        );
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_frames,
        };
        let audio = self
            .instance
            .activate(|_, _| (), config)
            .unwrap_or_else(|e| panic!("activate at {sample_rate} Hz failed: {e}"))
            .start_processing()
            .unwrap_or_else(|e| panic!("start_processing at {sample_rate} Hz failed: {e}"));
        self.run_main_thread_callbacks();
        Processor::with_channels(audio, channels, max_frames as usize)
    }

    pub fn deactivate(&mut self, processor: Processor) {
        self.instance.deactivate(processor.audio.stop_processing());
        self.run_main_thread_callbacks();
    }

    /// What a host's event loop does when the plugin asked for a main-thread callback.
    pub fn run_main_thread_callbacks(&mut self) {
        let requested = self
            .instance
            .access_shared_handler(|h| h.callback_requested.swap(false, Ordering::SeqCst));
        if requested {
            self.instance.call_on_main_thread_callback();
        }
    }
}

/// Left and right channels.
pub type Stereo = [Vec<f32>; 2];

/// A parameter change at a sample position of the processed stream.
pub struct Automation<'a> {
    pub at: usize,
    pub param: &'a Param,
    /// A CLAP value (see [`Param`]).
    pub value: f64,
}

/// Buffers for one or two channels and a started audio processor.
pub struct Processor {
    pub audio: StartedPluginAudioProcessor<TestHost>,
    pub input_ports: AudioPorts,
    pub output_ports: AudioPorts,
    pub input: Vec<Vec<f32>>,
    pub output: Vec<Vec<f32>>,
    pub steady_time: u64,
}

impl Processor {
    pub fn new(audio: StartedPluginAudioProcessor<TestHost>) -> Self {
        Self::with_channels(audio, 2, MAX_FRAMES as usize)
    }

    pub fn with_channels(
        audio: StartedPluginAudioProcessor<TestHost>,
        channels: usize,
        max_frames: usize,
    ) -> Self {
        Self {
            audio,
            input_ports: AudioPorts::with_capacity(channels, 1),
            output_ports: AudioPorts::with_capacity(channels, 1),
            input: vec![vec![0.0; max_frames]; channels],
            output: vec![vec![0.0; max_frames]; channels],
            steady_time: 0,
        }
    }

    pub fn channels(&self) -> usize {
        self.input.len()
    }

    /// Processes one stereo block with `events` (sorted by time, relative to the block's start).
    pub fn process(&mut self, input: [&[f32]; 2], events: &[ParamValueEvent]) -> Stereo {
        let [l, r]: [Vec<f32>; 2] = self.process_channels(&input, events).try_into().unwrap();
        [l, r]
    }

    /// Processes one block of as many channels as the processor has.
    pub fn process_channels(
        &mut self,
        input: &[&[f32]],
        events: &[ParamValueEvent],
    ) -> Vec<Vec<f32>> {
        let n = self.process_in_place(input, events);
        self.output.iter().map(|b| b[..n].to_vec()).collect()
    }

    /// Processes one block, leaving the result in `self.output[c][..n]`; returns `n`.
    pub fn process_in_place(&mut self, input: &[&[f32]], events: &[ParamValueEvent]) -> usize {
        let n = input[0].len();
        assert_eq!(input.len(), self.channels(), "channel count");
        assert!(n > 0 && n <= self.input[0].len() && input.iter().all(|c| c.len() == n));
        for (buffer, samples) in self.input.iter_mut().zip(input) {
            buffer[..n].copy_from_slice(samples);
        }
        // Output the plugin leaves unwritten stays NaN, which the tests catch.
        for buffer in &mut self.output {
            buffer[..n].fill(f32::NAN);
        }

        let inputs = self.input_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(
                self.input
                    .iter_mut()
                    .map(|b| InputChannel::variable(&mut b[..n])),
            ),
        }]);
        let mut outputs = self.output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                self.output.iter_mut().map(|b| &mut b[..n]),
            ),
        }]);
        let status = self.audio.process(
            &inputs,
            &mut outputs,
            &InputEvents::from_buffer(&events),
            &mut OutputEvents::void(),
            Some(self.steady_time),
            None,
        );
        if let Err(e) = status {
            panic!("process({n} frames) failed: {e}");
        }
        self.steady_time += n as u64;
        n
    }

    /// Processes `input` cut into consecutive blocks of `block_sizes` (cycled until the input
    /// ends), sending each change of `automation` in the block it falls in, and returns the
    /// whole output.
    pub fn process_in_blocks(
        &mut self,
        input: &Stereo,
        block_sizes: &[usize],
        automation: &[Automation],
    ) -> Stereo {
        let len = input[0].len();
        let mut output: Stereo = [Vec::with_capacity(len), Vec::with_capacity(len)];
        let mut start = 0;
        for &size in block_sizes.iter().cycle() {
            if start == len {
                break;
            }
            let end = (start + size).min(len);
            let events: Vec<_> = automation
                .iter()
                .filter(|a| (start..end).contains(&a.at))
                .map(|a| {
                    let time = u32::try_from(a.at - start).unwrap();
                    ParamValueEvent::new(time, a.param.id, Pckn::match_all(), a.value)
                })
                .collect();
            let block = self.process([&input[0][start..end], &input[1][start..end]], &events);
            for (out, b) in output.iter_mut().zip(block) {
                out.extend(b);
            }
            start = end;
        }
        output
    }
}

// ---------------------------------------------------------------------------------------------
// Signals shared by the hardening tests.

/// A xorshift noise source in -0.5..0.5.
pub fn noise_source(mut seed: u32) -> impl FnMut() -> f32 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    }
}

/// Programme-like music on `channels` (1 or 2), peaking around -4 dBFS: a bass line and a chord
/// under a beat, with noisy hits; tones are kept below a quarter of `sample_rate`.
pub fn music(len: usize, sample_rate: f64, channels: usize) -> Vec<Vec<f32>> {
    let mut noise = noise_source(0x2545_f491);
    let beat = (sample_rate * 0.5) as usize;
    let tone = |hz: f64, t: f64| {
        if hz < sample_rate / 4.0 {
            (std::f64::consts::TAU * hz * t).sin() as f32
        } else {
            0.0
        }
    };
    let mut out = vec![Vec::with_capacity(len); channels];
    for n in 0..len {
        let t = n as f64 / sample_rate;
        let env = (-((n % beat) as f32) / (0.04 * sample_rate as f32)).exp();
        let bass = 0.25 * tone(55.0, t) + 0.1 * tone(110.0, t);
        let chord = 0.08 * (tone(440.0, t) + tone(554.4, t) + tone(659.3, t));
        let hit = 0.3 * env * noise();
        let air = 0.01 * noise();
        out[0].push(bass + chord + hit + air);
        if channels == 2 {
            out[1].push(0.9 * bass - 0.8 * chord + 0.7 * hit + air);
        }
    }
    out
}

/// The first non-finite sample of `output`, as "channel c sample n is x".
pub fn first_non_finite(output: &[Vec<f32>]) -> Option<String> {
    output.iter().enumerate().find_map(|(c, channel)| {
        channel
            .iter()
            .position(|x| !x.is_finite())
            .map(|n| format!("channel {c} sample {n} is {}", channel[n]))
    })
}

/// The largest magnitude in `output`.
pub fn peak(output: &[Vec<f32>]) -> f32 {
    output.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Root mean square of `x`.
pub fn rms_of(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len() as f64).sqrt()
}

impl Processor {
    /// Processes `input` (one or two channels) cut into consecutive blocks of `block_sizes`
    /// (cycled), with parameter `events` from `events_for(block_start, block_len)`, and returns
    /// the whole output.
    pub fn render(
        &mut self,
        input: &[Vec<f32>],
        block_sizes: &[usize],
        mut events_for: impl FnMut(usize, usize) -> Vec<ParamValueEvent>,
    ) -> Vec<Vec<f32>> {
        let len = input[0].len();
        let mut output = vec![Vec::with_capacity(len); input.len()];
        let mut start = 0;
        for &size in block_sizes.iter().cycle() {
            if start == len {
                break;
            }
            let end = (start + size).min(len);
            let events = events_for(start, end - start);
            let slices: Vec<&[f32]> = input.iter().map(|c| &c[start..end]).collect();
            let n = self.process_in_place(&slices, &events);
            for (out, b) in output.iter_mut().zip(&self.output) {
                out.extend_from_slice(&b[..n]);
            }
            start = end;
        }
        output
    }
}

/// An automation storm: for a block of `len` samples, every parameter set to a random value at
/// a random sample of the block, and a quarter of them set again later in the same block
/// (sorted by time, as CLAP requires).
pub struct Storm {
    params: Vec<Param>,
    noise: Box<dyn FnMut() -> f32 + Send>,
}

impl Storm {
    pub fn new(params: Vec<Param>, seed: u32) -> Self {
        Self {
            params,
            noise: Box::new(noise_source(seed)),
        }
    }

    /// A random CLAP value for `param`: any step of a stepped one, anywhere in the range else.
    fn value(&mut self, param: &Param) -> f64 {
        let u = ((self.noise)() + 0.5) as f64;
        if param.is_stepped() {
            (param.min + (u * (param.max - param.min + 1.0)).floor()).min(param.max)
        } else {
            param.min + u * (param.max - param.min)
        }
    }

    fn offset(&mut self, len: usize) -> u32 {
        ((((self.noise)() + 0.5) * len as f32) as usize).min(len - 1) as u32
    }

    pub fn events(&mut self, len: usize) -> Vec<ParamValueEvent> {
        let mut events = Vec::with_capacity(self.params.len() * 2);
        for i in 0..self.params.len() {
            let param = self.params[i].clone();
            let at = self.offset(len);
            let value = self.value(&param);
            events.push(ParamValueEvent::new(at, param.id, Pckn::match_all(), value));
            if i % 4 == 0 {
                let later = at + self.offset(len - at as usize);
                let value = self.value(&param);
                events.push(ParamValueEvent::new(
                    later,
                    param.id,
                    Pckn::match_all(),
                    value,
                ));
            }
        }
        events.sort_by_key(|e| e.header().time());
        events
    }
}
