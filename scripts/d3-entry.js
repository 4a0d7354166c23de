// Entry point bundled by scripts/vendor.sh into static/vendor/d3/d3.js: all of d3 v7 as one ES module.
export * from "d3";
