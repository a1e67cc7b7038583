// Prefill the merchant's text from the chosen reason category's template (the hold kind picks a
// default category). Text the person has edited is never overwritten.
(function () {
  "use strict";
  function setup(box) {
    var data = JSON.parse(document.getElementById("notice-templates").textContent);
    var form = box.closest("form");
    var category = box.querySelector("[name=reason_category]");
    var message = box.querySelector("[name=merchant_message]");
    var kind = form ? form.querySelector("[name=kind]") : null;
    var filled = "";
    function chosen() {
      if (category.value) { return category.value; }
      return kind ? data.by_kind[kind.value] : "";
    }
    function prefill() {
      var text = data.templates[chosen()] || "";
      if (message.value === "" || message.value === filled) {
        message.value = text;
        filled = text;
      }
    }
    category.addEventListener("change", prefill);
    if (kind) { kind.addEventListener("change", prefill); }
    prefill();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-notice-prefill]").forEach(setup);
  });
})();
