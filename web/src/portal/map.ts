// The portal's maps (Leaflet, as the console's): a dataset's rows as points, and the report
// form's map where a click places the problem. Tiles only where the installation names a
// tile server (the server writes it into the page as <meta name="beffroi-tiles">).
import L from "leaflet";
import "leaflet/dist/leaflet.css";

// The metropolis (Dijon) when there is nothing to fit the map to.
const CENTRE: L.LatLngTuple = [47.32, 5.04];

function baseMap(container: HTMLElement): L.Map {
  const map = L.map(container, { center: CENTRE, zoom: 12, attributionControl: false });
  const tiles = document.querySelector<HTMLMetaElement>('meta[name="beffroi-tiles"]')?.content;
  if (tiles) {
    container.classList.add("with-tiles");
    L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  }
  return map;
}

export interface Point {
  lat: number;
  lon: number;
  label: string;
}

/** A map of points, fitted to them; a click on one shows its label. */
export function pointsMap(container: HTMLElement, points: Point[]): L.Map {
  const map = baseMap(container);
  for (const p of points) {
    L.circleMarker([p.lat, p.lon], { radius: 5, color: "#1d4e89", weight: 1, fillOpacity: 0.7 })
      .bindPopup(p.label)
      .addTo(map);
  }
  if (points.length) {
    const bounds = L.latLngBounds(points.map((p) => [p.lat, p.lon] as L.LatLngTuple));
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16, animate: false });
  }
  return map;
}

/** A map where a click (or `place`) sets the one marker; `picked` hears each new place. */
export function pickMap(
  container: HTMLElement,
  picked: (lat: number, lon: number) => void,
): { place(lat: number, lon: number): void } {
  const map = baseMap(container);
  let marker: L.CircleMarker | null = null;
  const place = (lat: number, lon: number): void => {
    marker ??= L.circleMarker([lat, lon], { radius: 9, color: "#b3261e", fillOpacity: 0.8 }).addTo(map);
    marker.setLatLng([lat, lon]);
    picked(lat, lon);
  };
  map.on("click", (event: L.LeafletMouseEvent) => place(event.latlng.lat, event.latlng.lng));
  return {
    place(lat, lon) {
      place(lat, lon);
      map.setView([lat, lon], Math.max(map.getZoom(), 16), { animate: false });
    },
  };
}
