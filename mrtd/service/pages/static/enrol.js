// The enrolment form's live preview (MRZ and printed name, findings next to their fields) and the photo
// check of an uploaded portrait or signature, both computed by the service's own intake rules.
const form = document.getElementById("enrol");
const csrf = form.querySelector("input[name=csrf]").value;
const $ = (id) => document.getElementById(id);
const IMAGE_FIELDS = new Set(["portrait", "signature"]);

// A finding: its rule's sentence in the page's language (when the page is not English), then the English
// detail (the value, the limit), marked as such.
function showFinding(li, f, prefix) {
  if (!f.summary) {
    li.textContent = prefix + f.message;
    return;
  }
  const detail = document.createElement("span");
  detail.className = "technical";
  detail.lang = "en";
  detail.dir = "ltr";
  detail.textContent = prefix + f.message;
  li.append(`${f.summary} `, detail);
}

function showFindings(findings, keep) {
  const lists = new Map([...form.querySelectorAll("ul.findings[data-for]")].map((ul) => [ul.dataset.for, ul]));
  for (const [key, ul] of lists) if (!keep(key)) ul.replaceChildren();
  for (const f of findings) {
    const key = f.field.split("[")[0];
    const ul = lists.get(key) || lists.get(key.split(".")[0]) || lists.get("document");
    if (!keep(ul.dataset.for) || IMAGE_FIELDS.has(key)) {
      const li = document.createElement("li");
      li.className = f.severity;
      li.dataset.rule = f.rule;
      showFinding(li, f, ul.dataset.for === key ? "" : `${f.field}: `);
      ul.append(li);
    }
  }
}

let timer = null;
let asked = 0;
async function preview() {
  const body = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (typeof v === "string") body.append(k, v);
  const mine = ++asked;
  const answer = await fetch("/office/enrol/preview", { method: "POST", body, headers: { "X-CSRF-Token": csrf } });
  if (!answer.ok || mine !== asked) return;
  const p = await answer.json();
  $("pv-surname").textContent = [p.names.surname, p.names.surname_latin && `(${p.names.surname_latin})`].filter(Boolean).join(" ") || "—";
  $("pv-given").textContent = [p.names.given_names, p.names.given_names_latin && `(${p.names.given_names_latin})`].filter(Boolean).join(" ") || "—";
  $("pv-mrz").textContent = p.mrz.join("\n");
  $("pv-state").textContent = p.ok ? $("pv-state").dataset.ok : "";
  showFindings(p.findings, (key) => IMAGE_FIELDS.has(key));
  form.dataset.previewed = String(mine);
}

form.addEventListener("input", (event) => {
  if (event.target.type === "file") return;
  clearTimeout(timer);
  timer = setTimeout(preview, 250);
});

async function checkImage(kind, file) {
  const view = $(`${kind}-view`);
  view.src = URL.createObjectURL(file);
  view.hidden = false;
  const body = new FormData();
  body.append("kind", kind);
  body.append("file", file);
  const status = $(`${kind}-status`);
  status.textContent = status.dataset.busy;
  const answer = await fetch("/office/enrol/image", { method: "POST", body, headers: { "X-CSRF-Token": csrf } });
  const result = await answer.json();
  const ul = form.querySelector(`ul.findings[data-for=${kind}]`);
  ul.replaceChildren(...(result.findings || []).map((f) => {
    const li = document.createElement("li");
    li.className = f.severity;
    li.dataset.rule = f.rule;
    showFinding(li, f, "");
    return li;
  }));
  status.textContent = result.ok ? (result.findings.length ? status.dataset.warn : status.dataset.pass) : status.dataset.fail;
  status.dataset.ok = String(result.ok);
}

for (const kind of IMAGE_FIELDS) {
  $(kind).addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) checkImage(kind, file);
  });
}

