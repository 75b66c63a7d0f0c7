// Strings of the vehicles and salting routes on the map.
const fr = {
  "vehicles.kind.salting_truck": "Saleuse",
  "vehicles.kind.patrol": "Patrouille",
  "vehicles.kind.field_crew": "Équipe terrain",
  "vehicles.speed": "{speed} km/h",
  "vehicles.seen": "Position à {time}",
  "vehicles.stale": "position ancienne",
  "vehicles.track": "Trace de la dernière heure : {n} points",
  "vehicles.route": "Circuit de salage (niveau {level})",
  "vehicles.route.done": "Salé à {pct} % depuis 12 h",
  "vehicles.crew": "{team} — {km} km ({vehicle})",
};

const en: typeof fr = {
  "vehicles.kind.salting_truck": "Salting truck",
  "vehicles.kind.patrol": "Patrol",
  "vehicles.kind.field_crew": "Field crew",
  "vehicles.speed": "{speed} km/h",
  "vehicles.seen": "Position at {time}",
  "vehicles.stale": "old position",
  "vehicles.track": "Last hour's track: {n} points",
  "vehicles.route": "Salting route (level {level})",
  "vehicles.route.done": "{pct} % salted in the last 12 h",
  "vehicles.crew": "{team} — {km} km ({vehicle})",
};

export const vehicles = { fr, en };
