// cronkeeper under PM2: the API, one scheduler, two workers.
//
//   npm install -g pm2
//   DATABASE_URL=postgresql://... CRONKEEPER_BIN=$PWD/.venv/bin pm2 start ops/ecosystem.config.js
//   pm2 status; pm2 logs; pm2 stop all; pm2 kill
//
// Without DATABASE_URL every process would start its own use of the embedded
// server (they share one data dir, so that works too); set it in production.
// kill_timeout (45 s) is longer than CRONKEEPER_SHUTDOWN_GRACE_SECONDS (25 s):
// a worker finishes or releases its runs before PM2 would SIGKILL it.
const path = require("path");

const root = path.resolve(__dirname, "..");
const bin = process.env.CRONKEEPER_BIN || path.join(root, ".venv", "bin");
const logs = path.join(process.env.CRONKEEPER_VAR || path.join(root, "var"), "log");

const common = {
  script: path.join(bin, "cronkeeper"),
  interpreter: "none",
  cwd: root,
  autorestart: true,
  restart_delay: 1000,
  exp_backoff_restart_delay: 200,
  max_restarts: 1000,
  min_uptime: 2000,
  kill_signal: "SIGTERM",
  merge_logs: true,
  time: false, // our lines carry their own timestamp
  env: { CRONKEEPER_LOG_FORMAT: "json" },
};

module.exports = {
  apps: [
    {
      ...common,
      name: "cronkeeper-api",
      args: [
        "api",
        "--host", process.env.CRONKEEPER_API_HOST || "127.0.0.1",
        "--port", process.env.CRONKEEPER_API_PORT || "8000",
      ],
      kill_timeout: 15000,
      out_file: path.join(logs, "api.log"),
      error_file: path.join(logs, "api.log"),
    },
    {
      ...common,
      name: "cronkeeper-scheduler",
      args: ["scheduler"],
      kill_timeout: 20000,
      out_file: path.join(logs, "scheduler.log"),
      error_file: path.join(logs, "scheduler.log"),
    },
    {
      ...common,
      name: "cronkeeper-worker",
      args: ["worker"],
      instances: 2,
      exec_mode: "fork",
      kill_timeout: 45000,
      out_file: path.join(logs, "worker.log"),
      error_file: path.join(logs, "worker.log"),
    },
  ],
};
