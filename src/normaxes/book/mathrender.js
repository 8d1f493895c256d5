// Typeset TeX with MathJax 3 in Node.js, once, when the book is built (normaxes.book.mathrender).
//
// node mathrender.js ES5_DIR < request.json > reply.json
//   ES5_DIR: the es5 folder of the MathJax distribution the book pins (django-static-mathjax)
//   request: {"items": [[tex, display], ...], "scale": 1.2, "fontURL": "..."}
//   reply:   {"html": [markup or null, ...], "errors": [null or message, ...], "css": "..."}
// Each item becomes the <mjx-container> that MathJax would have put on the page in the browser
// (CHTML output, with the hidden MathML that screen readers read); "css" is the one stylesheet
// every typeset item needs (MathJax's CHTML styles and the characters used). A TeX error is not
// drawn in red on the page: it is returned, and the build reports it.
"use strict";
const ES5 = process.argv[2];
const request = JSON.parse(require("fs").readFileSync(0, "utf8"));

global.MathJax = {
  loader: {
    paths: {mathjax: ES5},
    load: ["input/tex-base", "[tex]/ams", "output/chtml", "a11y/assistive-mml", "adaptors/liteDOM"],
    require: require,
  },
  // the TeX packages base and ams only; an undefined macro is an error (no noundefined)
  tex: {packages: ["base", "ams"], formatError: (jax, err) => { throw err; }},
  chtml: {fontURL: request.fontURL, scale: request.scale, matchFontHeight: false},
  startup: {typeset: false},
};
require(ES5 + "/startup.js");

MathJax.startup.promise.then(() => {
  const adaptor = MathJax.startup.adaptor;
  const html = [], errors = [];
  for (const [tex, display] of request.items) {
    try {
      html.push(adaptor.outerHTML(MathJax.tex2chtml(tex, {display: display})));
      errors.push(null);
    } catch (err) {
      html.push(null);
      errors.push(String(err && err.message || err));
    }
  }
  const css = adaptor.textContent(MathJax.chtmlStylesheet());
  process.stdout.write(JSON.stringify({html: html, errors: errors, css: css}));
}).catch((err) => {
  process.stderr.write("MathJax failed to start: " + err + "\n");
  process.exit(1);
});
