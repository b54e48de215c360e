// Loads an emitted rules.js (the file `generator build` writes under
// assets/) the way a page does, and returns what it defines.

import { readFileSync } from 'node:fs';
import vm from 'node:vm';

/** `globalThis.WhateverRules` of the rules.js at `file`. */
export function loadRules(file) {
  const context = vm.createContext({});
  vm.runInContext(readFileSync(file, 'utf8'), context, { filename: file });
  if (!context.WhateverRules) throw new Error(`${file} did not define WhateverRules`);
  return context.WhateverRules;
}
