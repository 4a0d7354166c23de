// Entry point bundled by scripts/vendor.sh into static/vendor/codemirror/codemirror.js:
// everything Grafo's editor glue (static/js/editor.js) imports from CodeMirror 6, in one ES module.
export { basicSetup, minimalSetup } from "codemirror";
export { EditorView, keymap, Decoration, ViewPlugin, lineNumbers } from "@codemirror/view";
export { EditorState, EditorSelection, Compartment, StateEffect, StateField, RangeSetBuilder } from "@codemirror/state";
export { python } from "@codemirror/lang-python";
export { setDiagnostics, lintGutter } from "@codemirror/lint";
export { indentUnit } from "@codemirror/language";
