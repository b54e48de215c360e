import{c as o}from"./chunk-5ZJMAEPV.js";import{l as r,m as t}from"./chunk-WLKOI3KH.js";import"./chunk-6YVY4YN3.js";r();t(o);
//# sourceMappingURL=account-4SVNUYRJ.js.map
