// Decoding what the engine says, by the names it declares (src/boundary/mod.rs says why): every code
// that crosses is looked up here by name once, when an instance starts, and a name this side needs
// that the engine does not declare stops the start with an error rather than misreading later.

const MAX_APPLY = 8192;

export class Boundary {
  /** `text`: the engine's `boundary()` (one `name:item,item` list a line). */
  constructor(text) {
    const lists = new Map();
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const i = line.indexOf(":");
      lists.set(line.slice(0, i), line.slice(i + 1).split(","));
    }
    const list = (name) => {
      const l = lists.get(name);
      if (l === undefined) throw new Error(`ballast: internal: the engine declares no list "${name}"`);
      return l;
    };
    const at = (name, item) => {
      const i = list(name).indexOf(item);
      if (i < 0) throw new Error(`ballast: internal: the engine's "${name}" list has no "${item}"`);
      return i;
    };
    this.lists = lists;
    const h = (item) => at("header", item);
    this.H_TASK = h("task");
    this.H_TIMEOUT = h("timeout");
    this.H_PENDING = h("pending");
    this.H_COUNT = h("actions");
    this.HEADER = list("header").length;
    const f = (item) => at("fields", item);
    this.F_KIND = f("kind");
    this.F_TASK = f("task");
    this.F_ATTEMPT = f("attempt");
    this.F_ARG0 = f("arg0");
    this.F_ARG1 = f("arg1");
    this.F_ARG2 = f("arg2");
    this.WIDTH = list("fields").length;
    const a = (item) => at("actions", item);
    this.START = a("start");
    this.ABORT = a("abort");
    this.SETTLE_RESPONSE = a("settle-response");
    this.SETTLE_ABORTED = a("settle-aborted");
    this.SETTLE_DEADLINE = a("settle-deadline");
    this.SETTLE_FAILED = a("settle-failed");
    this.CONSULT = a("consult");
    this.STRIP = 1 << at("start-flags", "strip-credentials");
    this.HEDGE = 1 << at("start-flags", "hedge");
    this.PENDING_EVENTS = 1;
    this.PENDING_DETAIL = 2;
    this.PENDING_LEASE = 4;
    const r = (item) => at("abort-reasons", item);
    this.ABORT_ATTEMPT_TIMEOUT = r("attempt-timeout");
    this.ABORT_DEADLINE = r("deadline");
    this.ABORT_CALLER = r("caller-abort");
    /** The headers that say how long to wait, in the order the engine reads them. */
    this.WAIT_HEADERS = list("wait-headers");
    const fl = (item) => at("failures", item);
    this.FAIL_NETWORK = fl("network");
    this.FAIL_INVALID_RESPONSE = fl("invalid-response");
    this.FAIL_INVALID_REQUEST = fl("invalid-request");
    this.FAIL_PERMISSION = fl("permission-denied");
    this.FAIL_HOOK = fl("hook");
    this.events = list("events");
    /** What this build has of what the browsers' build leaves out (`server`: coordinators, state, setRoutes). */
    this.features = new Set(list("features").filter((f) => f !== ""));
    const t = (item) => at("tags", item);
    this.T = {
      number: t("number"),
      string: t("string"),
      true: t("true"),
      false: t("false"),
      null: t("null"),
      absent: t("absent"),
      record: t("record"),
      list: t("list"),
      counts: t("counts"),
      object: t("object"),
      other: t("other"),
    };
    this.schemas = [];
    this.schemaNames = [];
    for (const [name, fields] of lists) {
      if (!name.startsWith("schema.")) continue;
      this.schemaNames.push(name.slice("schema.".length));
      this.schemas.push(fields);
    }
  }

  /** The values on a tape, in order. */
  decode(tape) {
    const out = [];
    const r = new Reader(this, tape);
    while (r.i < tape.length) out.push(r.value());
    return out;
  }

  /** Events on a tape: `[kind, payload]` pairs (a record's schema is named after its kind). */
  decodeEvents(tape) {
    const out = [];
    const r = new Reader(this, tape);
    while (r.i < tape.length) {
      const kind = this.schemaNames[tape[r.i + 1]];
      out.push([kind, r.value()]);
    }
    return out;
  }
}

const ABSENT = Symbol("absent");

class Reader {
  constructor(b, tape) {
    this.b = b;
    this.t = tape;
    this.i = 0;
  }

  value() {
    const { t, b } = this;
    const T = b.T;
    const tag = t[this.i++];
    switch (tag) {
      case T.number:
        return t[this.i++];
      case T.string: {
        const n = t[this.i++];
        let s = "";
        for (let k = 0; k < n; k += MAX_APPLY) {
          s += String.fromCharCode.apply(null, t.subarray(this.i + k, this.i + Math.min(n, k + MAX_APPLY)));
        }
        this.i += n;
        return s;
      }
      case T.true:
        return true;
      case T.false:
        return false;
      case T.null:
        return null;
      case T.absent:
        return ABSENT;
      case T.record: {
        const fields = b.schemas[t[this.i++]];
        const o = {};
        for (const f of fields) {
          const v = this.value();
          if (v !== ABSENT) o[f] = v;
        }
        return o;
      }
      case T.list: {
        const n = t[this.i++];
        const a = new Array(n);
        for (let k = 0; k < n; k++) a[k] = this.value();
        return a;
      }
      case T.counts: {
        const n = t[this.i++];
        const o = {};
        for (let k = 0; k < n; k++) {
          const key = this.value();
          o[key] = this.value();
        }
        return o;
      }
      default:
        throw new Error(`ballast: internal: unknown tag ${tag} at ${this.i - 1} of a tape`);
    }
  }
}
