//! The plugin's [`Editor`]: nice-plug-egui's editor, rebuilt at the saved size.
//!
//! Hosts create the editor before they restore a project's state, and nice-plug-egui's window
//! state keeps the size it was created with. So the size lives in the plugin's own saved state
//! (`editor-size`); each time the window opens (or the host asks for the size) a fresh
//! nice-plug-egui editor is made at that size, and every resize is written back to it.

use std::error::Error;
use std::sync::{Arc, Mutex, PoisonError};

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize};
use nice_plug::editor::{HostMethods, SpawnedEditor};
use nice_plug::prelude::{Editor, ParentWindowHandle, ResizeHint, TrackInfo};
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiEditorHandle, EguiEditorState, EguiNiceSettings,
    RepaintNotifier,
};
use serde::{Deserialize, Serialize};

use super::{theme, GuiHandle};
use crate::plugin::watched::Watched;

/// The editor's size in logical pixels, saved with the plugin's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorSize {
    pub width: u32,
    pub height: u32,
}

impl Default for EditorSize {
    fn default() -> Self {
        Self {
            width: theme::DEFAULT_WIDTH,
            height: theme::DEFAULT_HEIGHT,
        }
    }
}

impl EditorSize {
    /// At least the smallest size the layout works in.
    pub fn clamped(self) -> Self {
        Self {
            width: self.width.max(theme::MIN_WIDTH as u32),
            height: self.height.max(theme::MIN_HEIGHT as u32),
        }
    }
}

/// How the host may resize the editor.
pub fn resize_hint() -> ResizeHint {
    ResizeHint::RESIZABLE
        .with_min_logical_size(LogicalSize::new(theme::MIN_WIDTH, theme::MIN_HEIGHT))
}

/// The plugin's editor.
pub struct AuralisEditor {
    size: Watched<EditorSize>,
    gui: GuiHandle,
    /// The nice-plug-egui editor for the size it was made at.
    current: Mutex<Current>,
}

struct Current {
    size: EditorSize,
    state: Arc<EguiEditorState>,
    editor: EguiEditor<GuiHandle>,
}

fn egui_editor(size: EditorSize, gui: &GuiHandle) -> Current {
    let state =
        EguiEditorState::from_size(LogicalSize::new(size.width as f32, size.height as f32), 1.0);
    let settings = EguiNiceSettings::new()
        .with_tile("Auralis")
        .with_resize_hint(resize_hint());
    let editor = create_egui_editor(state.clone(), RepaintNotifier::new(), settings, gui.clone())
        .expect("nice-plug-egui always makes an editor");
    Current {
        size,
        state,
        editor,
    }
}

impl AuralisEditor {
    pub fn new(size: Watched<EditorSize>, gui: GuiHandle) -> Self {
        let at = size.get().clamped();
        let current = Mutex::new(egui_editor(at, &gui));
        Self { size, gui, current }
    }

    /// Runs `f` on the nice-plug-egui editor for the saved size, rebuilding it if the saved
    /// size changed (a project was loaded) while the window was closed.
    fn with_current<R>(&self, f: impl FnOnce(&EguiEditor<GuiHandle>) -> R) -> R {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let wanted = self.size.get().clamped();
        if current.size != wanted && !current.state.is_open() {
            *current = egui_editor(wanted, &self.gui);
        }
        f(&current.editor)
    }
}

impl Editor for AuralisEditor {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        self.with_current(|e| {
            e.spawn(
                parent,
                wait_for_parent,
                fallback_scale_factor,
                gui_context,
                host,
            )
        })
    }

    fn size(&self) -> NativeSize<u32> {
        self.with_current(|e| e.size())
    }

    fn resize_hint(&self) -> ResizeHint {
        resize_hint()
    }

    fn track_info_updated(&self, info: TrackInfo) {
        self.with_current(|e| e.track_info_updated(info));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::params::AuralisParams;
    use nice_plug::prelude::Params;

    fn logical_size(editor: &AuralisEditor) -> (u32, u32) {
        let size = editor.size().to_logical(1.0);
        (size.width, size.height)
    }

    #[test]
    fn the_editor_opens_at_the_size_saved_with_the_project() {
        let params = Arc::new(AuralisParams::default());
        let (editor, _tap) = super::super::create(params.clone());
        assert_eq!(
            logical_size(&editor),
            (theme::DEFAULT_WIDTH, theme::DEFAULT_HEIGHT)
        );

        // The user resized the window; the project is saved and opened in a new instance, whose
        // editor the host made before restoring the state.
        params.editor_size.set(EditorSize {
            width: 1300,
            height: 900,
        });
        let saved = params.serialize_fields();
        let restored = Arc::new(AuralisParams::default());
        let (editor, _tap) = super::super::create(restored.clone());
        restored.deserialize_fields(&saved);
        assert_eq!(logical_size(&editor), (1300, 900));

        // Never smaller than the layout needs.
        restored.editor_size.set(EditorSize {
            width: 10,
            height: 10,
        });
        assert_eq!(
            logical_size(&editor),
            (theme::MIN_WIDTH as u32, theme::MIN_HEIGHT as u32)
        );
    }
}
