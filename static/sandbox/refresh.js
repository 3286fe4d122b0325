// The sandbox phone shows new texts as they arrive: reload every 3 s unless a reply is being typed.
setInterval(function () {
  var field = document.querySelector(".sandbox-phone textarea, .sandbox-phone input[name=body]");
  if (!field || (field.value === "" && document.activeElement !== field)) {
    window.location.reload();
  }
}, 3000);
