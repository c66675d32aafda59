/**
 * The admin page's stylesheet and script, served from the page's own path
 * (nothing from another origin: it works offline, and the
 * Content-Security-Policy allows nothing else).
 *
 * @module
 */

/** The stylesheet: readable on a phone (the tables scroll sideways). */
export const ADMIN_CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0 auto; padding: 0.75rem; max-width: 80rem; line-height: 1.35; }
h1 { font-size: 1.3rem; margin: 0.2rem 0 0.8rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 0.5rem; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: 0.5rem; }
.totals div { border: 1px solid #8884; border-radius: 0.4rem; padding: 0.4rem 0.6rem; }
.totals b { display: block; font-size: 1.25rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
th, td { text-align: left; padding: 0.3rem 0.45rem; border-bottom: 1px solid #8884; white-space: nowrap; }
td.url { white-space: normal; word-break: break-all; min-width: 12rem; }
tr.failing td { background: #d3323214; }
.bad { color: #c62828; font-weight: 600; }
form.filter { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
input[type=search], input[type=password] { font-size: 1rem; padding: 0.35rem; min-width: 14rem; flex: 1; }
button { font-size: 0.95rem; padding: 0.3rem 0.7rem; cursor: pointer; }
button.remove { color: #c62828; }
.notice { padding: 0.5rem; border-radius: 0.4rem; background: #2e7d3222; }
.error { padding: 0.5rem; border-radius: 0.4rem; background: #c6282822; }
nav.pages { display: flex; gap: 1rem; margin: 0.6rem 0; align-items: center; }
header { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap; }
`;

/** The script: a confirmation before a removal, nothing else. */
export const ADMIN_JS = `"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question !== null && !window.confirm(question)) event.preventDefault();
});
`;
