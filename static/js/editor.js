// Editor glue: CodeMirror 6 with Python highlighting, line numbers, Ctrl/Cmd+Enter to trace, inline
// error diagnostics, a highlighted "line that ran" for the step player, and cursor-line reports.
import {
  EditorView, EditorState, EditorSelection, basicSetup, keymap, python, Decoration, StateEffect, StateField,
  setDiagnostics, lintGutter, indentUnit, Compartment,
} from "../vendor/codemirror/codemirror.js";
import { EDITOR_PHRASES } from "./editor-phrases.js";

/** CodeMirror's own words and the editor's label, in the page's language. */
const languageOf = (lang, label) => [
  EditorState.phrases.of(EDITOR_PHRASES[lang] ?? {}),
  EditorView.contentAttributes.of({ "aria-label": label }),
];

/** A highlighted line, set by an effect: the line the step ran, the line of the selected node. */
function lineMark(cls) {
  const set = StateEffect.define();
  const field = StateField.define({
    create: () => Decoration.none,
    update(deco, tr) {
      deco = deco.map(tr.changes);
      for (const e of tr.effects) {
        if (e.is(set)) {
          const line = e.value;
          if (!line || line > tr.state.doc.lines) return Decoration.none;
          const from = tr.state.doc.line(line).from;
          return Decoration.set([Decoration.line({ class: cls }).range(from)]);
        }
      }
      return deco;
    },
    provide: (f) => EditorView.decorations.from(f),
  });
  return { set, field };
}
const stepLine = lineMark("cm-step-line");
const selectedLine = lineMark("cm-selected-line");

export function createEditor(parent, { doc, onRun, onCursorLine, onChange, label, lang = "en" }) {
  let lastCursorLine = null;
  const language = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        keymap.of([{ key: "Mod-Enter", preventDefault: true, run: () => { onRun(); return true; } }]),
        basicSetup,
        python(),
        indentUnit.of("    "),
        EditorView.lineWrapping,
        lintGutter(),
        stepLine.field,
        selectedLine.field,
        language.of(languageOf(lang, label)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange?.();
          if (update.selectionSet && update.view.hasFocus) {
            const line = update.state.doc.lineAt(update.state.selection.main.head).number;
            if (line !== lastCursorLine) { lastCursorLine = line; onCursorLine(line); }
          }
        }),
      ],
    }),
  });

  function posAt(line, col) {
    const doc = view.state.doc;
    const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
    return Math.min(l.from + Math.max((col ?? 1) - 1, 0), l.to);
  }

  return {
    view,
    getText: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      view.dispatch(setDiagnostics(view.state, []));
    },
    showError({ line, col, message, scroll = true }) {
      if (!line) { view.dispatch(setDiagnostics(view.state, [])); return; }
      const from = posAt(line, col);
      const lineEnd = view.state.doc.lineAt(from).to;
      const to = Math.max(Math.min(from + 1, lineEnd), from);
      view.dispatch(setDiagnostics(view.state, [{ from, to, severity: "error", message }]));
      if (scroll) view.dispatch({ effects: EditorView.scrollIntoView(from, { y: "center" }) });
    },
    /** CodeMirror's tooltips and the editor's label in another language. */
    setLanguage(lang, label) {
      view.dispatch({ effects: language.reconfigure(languageOf(lang, label)) });
    },
    clearError() { view.dispatch(setDiagnostics(view.state, [])); },
    /** The line the current step ran (0 or null clears it). */
    setStepLine(line) {
      view.dispatch({ effects: stepLine.set.of(line || null) });
      if (line && line <= view.state.doc.lines) {
        // No margin: in presentation mode the editor is one line high, and shows this one alone.
        view.dispatch({ effects: EditorView.scrollIntoView(view.state.doc.line(line).from, { y: "nearest", yMargin: 0 }) });
      }
    },
    /** The source line of the selected node (0 or null clears it), scrolled into view. */
    setSelectedLine(line) {
      view.dispatch({ effects: selectedLine.set.of(line || null) });
      if (line && line <= view.state.doc.lines) {
        view.dispatch({ effects: EditorView.scrollIntoView(view.state.doc.line(line).from, { y: "nearest" }) });
      }
    },
    /** Select a whole line (from the inspector's "line N" link). */
    selectLine(line) {
      if (!line || line > view.state.doc.lines) return;
      const l = view.state.doc.line(line);
      lastCursorLine = line;
      view.dispatch({ selection: EditorSelection.range(l.from, l.to), scrollIntoView: true });
      view.focus();
    },
    focus: () => view.focus(),
  };
}
