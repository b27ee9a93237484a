// Every device at its place, coloured by its state (ok, alerting, silent), clustered when zoomed out (a
// cluster takes the colour of its worst device: one alerting lamp among a hundred shows), on the base map of CITY_MAP_TILES (OpenStreetMap's by default). Without tiles (no internet in the room) the
// markers still show on a blank background. A device's popup names it and links to its open alerts.
// Leaflet builds popups from DOM nodes made here, with text only: a device's name is never markup.
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import 'leaflet.markercluster/dist/MarkerCluster.Default.css';
import L from 'leaflet';
import 'leaflet.markercluster';
import { useEffect, useRef, useState } from 'preact/hooks';
import { alertStream, api, type DeviceStatus } from './api.ts';
import { fill, type Strings } from './i18n.ts';

/** Huế's centre (the Citadel), where the map opens before it fits the devices. */
const HUE: L.LatLngTuple = [16.4637, 107.5909];
const COLOUR = { ok: '#2e9d52', alerting: '#d9342b', silent: '#8a8f98' } as const;
type Status = DeviceStatus['status'];
/** Worst first: a cluster is coloured by the first of these any of its devices is in. */
const WORST: readonly Status[] = ['alerting', 'silent', 'ok'];

/** Each marker's device state, for its cluster's colour. */
const statusOf = new WeakMap<L.Layer, Status>();

function clusterIcon(cluster: L.MarkerCluster): L.DivIcon {
  const children = new Set(cluster.getAllChildMarkers().map((m) => statusOf.get(m)));
  const worst = WORST.find((s) => children.has(s)) ?? 'ok';
  const count = cluster.getChildCount();
  return L.divIcon({
    html: `<span>${count}</span>`,
    className: `cluster ${worst}`,
    iconSize: L.point(40, 40),
  });
}

function popup(d: DeviceStatus, t: Strings): HTMLElement {
  const box = document.createElement('div');
  const name = document.createElement('strong');
  name.textContent = d.name;
  const facts = document.createElement('div');
  facts.textContent = `${d.id} · ${d.district} · ${t.deviceStatus[d.status]}`;
  const open = document.createElement('a');
  open.href = `#/devices/${encodeURIComponent(d.id)}`;
  open.textContent = t.openDevice;
  box.append(name, facts, open);
  if (d.openAlerts > 0) {
    const link = document.createElement('a');
    link.href = '#/';
    link.textContent = fill(t.openAlerts, { n: d.openAlerts });
    box.append(link);
  }
  return box;
}

export function MapPage({ t }: { t: Strings }) {
  const holder = useRef<HTMLDivElement>(null);
  const [devices, setDevices] = useState<readonly DeviceStatus[]>([]);

  useEffect(() => {
    const el = holder.current;
    if (el === null) return;
    // maxZoom here: the clusters need it before the base map (fetched with the settings) is there.
    const map = L.map(el, { preferCanvas: true, maxZoom: 19 }).setView(HUE, 12);
    const cluster = L.markerClusterGroup({ chunkedLoading: true, iconCreateFunction: clusterIcon });
    map.addLayer(cluster);
    let fitted = false;
    const draw = (list: readonly DeviceStatus[]) => {
      setDevices(list);
      cluster.clearLayers();
      cluster.addLayers(
        list.map((d) => {
          const marker = L.circleMarker([d.location.lat, d.location.lon], {
            radius: 8,
            color: '#0c131a',
            weight: 1,
            fillColor: COLOUR[d.status],
            fillOpacity: 0.95,
          })
            .bindPopup(() => popup(d, t))
            .bindTooltip(d.name);
          statusOf.set(marker, d.status);
          return marker;
        }),
      );
      if (!fitted && list.length > 0) {
        fitted = true;
        map.fitBounds(L.latLngBounds(list.map((d) => [d.location.lat, d.location.lon])), {
          padding: [30, 30],
        });
      }
    };
    const refresh = () =>
      void api.deviceStatus().then(
        ({ devices: list }) => draw(list),
        () => undefined,
      );
    api.settings().then(
      ({ map: base }) => L.tileLayer(base.tiles, { attribution: base.attribution, maxZoom: 19 }).addTo(map),
      () => undefined,
    );
    refresh();
    // A device's state follows its alerts: redraw when one changes (at most every two seconds).
    let pending: number | undefined;
    const close = alertStream(
      () => {
        pending ??= window.setTimeout(() => {
          pending = undefined;
          refresh();
        }, 2000);
      },
      () => undefined,
    );
    return () => {
      close();
      window.clearTimeout(pending);
      map.remove();
    };
  }, []);

  const count = (s: Status) => devices.filter((d) => d.status === s).length;
  return (
    <section class="map-page" aria-labelledby="map-title">
      <div class="bar">
        <h2 id="map-title">
          {t.map} <span class="count">{fill(t.devices, { n: devices.length })}</span>
        </h2>
        <ul class="legend" data-testid="legend">
          {(['ok', 'alerting', 'silent'] as const).map((s) => (
            <li key={s} data-status={s}>
              <span class={`dot ${s}`} aria-hidden="true" /> {t.deviceStatus[s]}: {count(s)}
            </li>
          ))}
        </ul>
      </div>
      <div ref={holder} class="map" data-testid="map" />
    </section>
  );
}
