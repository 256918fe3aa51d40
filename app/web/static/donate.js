// The donation form, live: the presets follow the frequency, and the fee
// and the total follow the amount. Progressive enhancement only: the form
// works the same without this script.
(function () {
  "use strict";
  var form = document.querySelector("form.donate");
  if (!form) return;
  // Thousandths of a percent, as the server computes with.
  var percent = Number(form.getAttribute("data-fee-percent"));
  var currencies = {};
  form.getAttribute("data-currencies").split(" ").forEach(function (entry) {
    var p = entry.split(":");
    currencies[p[0]] = { exp: Number(p[1]), fixed: Number(p[2]) };
  });
  var custom = form.querySelector("#custom_amount");
  var cover = form.querySelector("#cover_fees");
  var feeText = form.querySelector(".fee");
  var total = form.querySelector("#total");
  var totalLine = form.querySelector("#total-line");
  var PER = { once: "", monthly: " a month", yearly: " a year" };

  function currency() {
    var el = form.elements.currency;
    return el && currencies[el.value] ? el.value : Object.keys(currencies)[0];
  }
  function frequency() {
    var el = form.querySelector("input[name=frequency]:checked");
    return el ? el.value : "once";
  }
  // Major units to minor units, by the server's rule; null when not an amount.
  function parse(text, exp) {
    var t = text.replace(/[\s,]/g, "").replace(/^\$/, "");
    var m = /^(\d*)(?:\.(\d*))?$/.exec(t);
    if (!m || (m[1] === "" && !m[2]) || (m[2] || "").length > exp) return null;
    var frac = (m[2] || "") + "000".slice(0, exp - (m[2] || "").length);
    return Number(m[1] || "0") * Math.pow(10, exp) + Number(frac || "0");
  }
  function format(minor, code) {
    var exp = currencies[code].exp;
    var scale = Math.pow(10, exp);
    var whole = String(Math.floor(minor / scale)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = exp ? "." + String(minor % scale).padStart(exp, "0") : "";
    return whole + frac + " " + code;
  }
  // total = ceil((amount + fixed) / (1 - rate)), as on the server.
  function fee(amount, code) {
    var kept = 100000 - percent;
    return Math.floor(((amount + currencies[code].fixed) * 100000 + kept - 1) / kept) - amount;
  }
  function chosen(code) {
    var exp = currencies[code].exp;
    if (custom.value.trim()) return parse(custom.value, exp);
    var preset = form.querySelector("input[name=amount]:checked");
    return preset ? parse(preset.value, exp) : null;
  }
  function update() {
    var code = currency();
    var amount = chosen(code);
    if (amount === null || amount <= 0) {
      totalLine.hidden = true;
      return;
    }
    var f = fee(amount, code);
    feeText.textContent = format(f, code);
    total.textContent = format(amount + (cover.checked ? f : 0), code) + PER[frequency()];
    totalLine.hidden = false;
  }
  // A new frequency: the preset at the same place in its own list.
  function followFrequency() {
    var checked = form.querySelector("input[name=amount]:checked");
    if (!checked || custom.value.trim()) return;
    var old = Array.prototype.slice.call(checked.closest(".presets").querySelectorAll("input"));
    var group = form.querySelector('.presets[data-frequency="' + frequency() + '"]');
    var radios = group ? group.querySelectorAll("input") : [];
    if (radios.length) radios[Math.min(old.indexOf(checked), radios.length - 1)].checked = true;
  }
  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "frequency") followFrequency();
    if (name === "amount") custom.value = "";
    if (name === "currency") {
      Array.prototype.forEach.call(form.querySelectorAll(".code"), function (el) {
        el.textContent = currency();
      });
    }
    update();
  });
  custom.addEventListener("input", function () {
    if (custom.value.trim()) {
      Array.prototype.forEach.call(form.querySelectorAll("input[name=amount]"), function (r) {
        r.checked = false;
      });
    }
    update();
  });
  update();
})();
