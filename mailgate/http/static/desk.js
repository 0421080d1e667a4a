// mailgate web desk: keyboard shortcuts and the live command text of the form controls.
// Everything works without it (plain links and forms); nothing here is inline, so the
// pages' Content-Security-Policy allows no inline script at all.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.tickets tbody tr"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("current", n === current); });
    var link = rows[current].querySelector("a");
    if (link) link.focus();
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    if (e.key === "j") { select(current + 1); e.preventDefault(); }
    else if (e.key === "k") { select(current - 1); e.preventDefault(); }
    else if (e.key === "o" && current >= 0) {
      var a = rows[current].querySelector("a"); if (a) { window.location = a.href; e.preventDefault(); }
    } else if (e.key === "/") {
      var box = document.querySelector("input[type=search]"); if (box) { box.focus(); e.preventDefault(); }
    }
  });
  // each command control shows the line it will send, as you would write it in a mail
  function line(el) {
    var name = el.getAttribute("data-command"), v = (el.value || "").trim();
    if (!v) return name + ": …";
    if (name === "nosy" && el.name === "nosy_remove") return "nosy: -" + v.replace(/^-/, "");
    if (name === "nosy") return "nosy: +" + v.replace(/^\+/, "");
    return name + ": " + v;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-command]"), function (el) {
    var out = document.getElementById(el.id + "-cmd");
    if (!out) return;
    var update = function () { out.textContent = line(el); };
    el.addEventListener("input", update); el.addEventListener("change", update); update();
  });
})();
