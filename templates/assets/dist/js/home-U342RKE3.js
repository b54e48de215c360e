import{g as r}from"./chunk-QUKHTCC4.js";import"./chunk-6YVY4YN3.js";import"./chunk-ZZLZ4LFP.js";r();
//# sourceMappingURL=home-U342RKE3.js.map
