import type { ClientApi } from '../client/ClientApi.js';
import { CANVAS, type SplashView } from './splash.js';

/** A theme's splash screen (or its built-in text) over the stage. */
export function SplashOverlay({ view, api, caption }: { view: SplashView; api: ClientApi; caption: boolean }) {
  const pct = (v: number, of: number) => `${(v / of) * 100}%`;
  return (
    <div
      className={caption ? 'splash caption' : 'splash'}
      data-testid="splash"
      data-screen={view.key}
      role="status"
      style={view.backgroundColor && !caption ? { background: view.backgroundColor } : undefined}
    >
      {view.background && !caption && <img className="splash-bg" data-testid="splash-background" alt="" src={api.themeAssetUrl(view.background)} />}
      {view.placed ? (
        <div className="splash-canvas">
          {view.placed.map((el, i) => {
            const box = {
              left: pct(el.x, CANVAS.width),
              top: pct(el.y, CANVAS.height),
              width: pct(el.width, CANVAS.width),
              height: pct(el.height, CANVAS.height),
            };
            return el.kind === 'icon' ? (
              <img key={i} className="splash-icon" alt="" src={api.themeAssetUrl(el.path!)} style={box} />
            ) : (
              <p
                key={i}
                className="splash-label"
                style={{ ...box, color: el.color, textAlign: el.align, fontSize: `${((el.fontSize ?? 66) / CANVAS.height) * 100}cqh` }}
              >
                {el.text}
              </p>
            );
          })}
        </div>
      ) : (
        <div className="splash-text">
          {view.lines.map((l, i) => (
            <p key={i} style={l.color ? { color: l.color } : undefined}>
              {l.text}
            </p>
          ))}
        </div>
      )}
    </div>
  );
}
