// Loads the console (trunk writes epay-console.js and its wasm beside this file). A file,
// not an inline script: the console's Content-Security-Policy allows no inline script.
import init from "./epay-console.js";
init({ module_or_path: new URL("./epay-console_bg.wasm", import.meta.url) });
