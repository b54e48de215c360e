import{c as o}from"./chunk-LQAQRNGX.js";import{g as r,h as t}from"./chunk-QUKHTCC4.js";import"./chunk-6YVY4YN3.js";import"./chunk-ZZLZ4LFP.js";r();t(o);
//# sourceMappingURL=account-HWGJQUI2.js.map
