// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  var KEY = "gjj-sound-off";
  function render(button) {
    var off = window.localStorage.getItem(KEY) === "1";
    button.textContent = off ? "开启音效" : "关闭音效";
    button.setAttribute("aria-pressed", off ? "true" : "false");
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sound-toggle]").forEach(function (button) {
      render(button);
      button.addEventListener("click", function () {
        var off = window.localStorage.getItem(KEY) === "1";
        window.localStorage.setItem(KEY, off ? "0" : "1");
        render(button);
      });
    });
  });
  // A new message arriving in the 消息 panel chimes unless sound is off.
  document.addEventListener("message-arrived", function () {
    if (window.localStorage.getItem(KEY) === "1" || !window.AudioContext) { return; }
    var ctx = new window.AudioContext(), osc = ctx.createOscillator();
    osc.frequency.value = 880; osc.connect(ctx.destination); osc.start(); osc.stop(ctx.currentTime + 0.15);
  });
})();
