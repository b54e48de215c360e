import{l as r}from"./chunk-WLKOI3KH.js";import"./chunk-6YVY4YN3.js";r();
//# sourceMappingURL=home-WLO7ZYR4.js.map
