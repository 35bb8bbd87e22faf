/* weixin-js-sdk ships as a CommonJS module (module.exports = wx); loaded before it without a
   bundler, this gives it a `module` to export to. It also sets window.wx itself. */
var module = { exports: {} };
