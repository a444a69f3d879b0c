// The bot's JSON API: every call carries the launch's signed init data (`Authorization: tma …`).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function api(token, initData) {
  const base = `/api/boards/${encodeURIComponent(token)}`;
  async function call(method, path, body) {
    const response = await fetch(base + path, {
      method,
      headers: {
        Authorization: `tma ${initData}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (!response.ok) throw new ApiError(response.status, data.error || "");
    return data;
  }
  return {
    model: () => call("GET", "/model"),
    board: () => call("GET", ""),
    version: () => call("GET", "/version"),
    plan: () => call("GET", "/plan"),
    addEntry: (point, kind, text) => call("POST", "/entries", { point, kind, text }),
    editEntry: (id, kind, text) => call("PATCH", `/entries/${id}`, { kind, text }),
    takeBack: (id) => call("DELETE", `/entries/${id}`),
    setMeasure: (number, field, value) => call("PATCH", `/measures/${number}`, { field, value }),
  };
}
