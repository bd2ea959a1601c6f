// What the server wrote on <body>: where the API is and how often views poll it.
const data = document.body.dataset;

export const API_BASE = data.apiBase || "/api/admin";
export const POLL_MS = Number(data.pollMs) || 2000;
