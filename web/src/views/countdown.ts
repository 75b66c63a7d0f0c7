// Countdowns to a due or expiry time, refreshed every second by the views that show them.

/** "1 j 03 h", "2 h 05 min", "4 min 09 s", "12 s": the two largest units of a duration. */
export function formatDuration(ms: number, lang: "fr" | "en"): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const day = lang === "fr" ? "j" : "d";
  const pad = (n: number) => String(n).padStart(2, "0");
  const [d, hr, m, sec] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60];
  if (d > 0) return `${d} ${day} ${pad(hr)} h`;
  if (hr > 0) return `${hr} h ${pad(m)} min`;
  if (m > 0) return `${m} min ${pad(sec)} s`;
  return `${sec} s`;
}

/** Calls tick every second until the returned function is called. */
export function everySecond(tick: () => void): () => void {
  const id = window.setInterval(tick, 1000);
  return () => window.clearInterval(id);
}
