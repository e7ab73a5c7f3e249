// Renders the math that pymdownx.arithmatex (generic mode) wraps in .arithmatex spans/divs.
function renderMath() {
  if (typeof renderMathInElement === "undefined") return;  // KaTeX not loaded (offline): the TeX stays readable
  document.querySelectorAll(".arithmatex").forEach(function (el) {
    renderMathInElement(el, {
      delimiters: [
        {left: "$$", right: "$$", display: true},
        {left: "$", right: "$", display: false},
        {left: "\\(", right: "\\)", display: false},
        {left: "\\[", right: "\\]", display: true},
      ],
    });
  });
}
if (typeof document$ !== "undefined") { document$.subscribe(renderMath); }  // Material's instant loading
else { window.addEventListener("load", renderMath); }
