import{c as o}from"./chunk-F47HN6GN.js";import{g as r,h as t}from"./chunk-QUKHTCC4.js";import"./chunk-6YVY4YN3.js";import"./chunk-ZZLZ4LFP.js";r();t(o);
//# sourceMappingURL=account-N2MGQ5JK.js.map
