// Simple line pictures for the instructions: a phone with a cable ("plug", "unplug",
// "removed"), its permission prompt ("allow"), an iPhone's "Trust This Computer?" with its
// two buttons ("trust"), a padlock on the screen ("locked"), settings ("debugging"), a cross
// ("unsupported"), a tick ("ready") and the restart arrows ("restart").
import QtQuick

Canvas {
    id: canvas
    property string kind: "plug"
    onKindChanged: requestPaint()
    onWidthChanged: requestPaint()
    onHeightChanged: requestPaint()

    function phone(ctx, x, y, w, h) {
        ctx.lineWidth = Math.max(3, w * 0.06)
        ctx.strokeStyle = "#111111"
        ctx.fillStyle = "#ffffff"
        var r = w * 0.15
        ctx.beginPath()
        ctx.moveTo(x + r, y)
        ctx.arcTo(x + w, y, x + w, y + h, r)
        ctx.arcTo(x + w, y + h, x, y + h, r)
        ctx.arcTo(x, y + h, x, y, r)
        ctx.arcTo(x, y, x + w, y, r)
        ctx.closePath()
        ctx.fill()
        ctx.stroke()
        ctx.fillStyle = "#dfe6f2"
        ctx.fillRect(x + w * 0.12, y + h * 0.1, w * 0.76, h * 0.75)
    }
    function arrow(ctx, x, y, len, up, colour) {
        ctx.strokeStyle = colour
        ctx.fillStyle = colour
        ctx.lineWidth = Math.max(4, len * 0.12)
        ctx.beginPath()
        ctx.moveTo(x, y)
        ctx.lineTo(x, y + (up ? -len : len))
        ctx.stroke()
        var tip = y + (up ? -len : len)
        var d = len * 0.35
        ctx.beginPath()
        ctx.moveTo(x - d, tip + (up ? d : -d))
        ctx.lineTo(x, tip)
        ctx.lineTo(x + d, tip + (up ? d : -d))
        ctx.closePath()
        ctx.fill()
    }
    function cable(ctx, x, y, gapBelow) {
        ctx.strokeStyle = "#111111"
        ctx.fillStyle = "#111111"
        ctx.lineWidth = Math.max(4, width * 0.03)
        var top = y + gapBelow
        ctx.fillRect(x - width * 0.04, top, width * 0.08, height * 0.07)
        ctx.beginPath()
        ctx.moveTo(x, top + height * 0.07)
        ctx.lineTo(x, height)
        ctx.stroke()
    }
    onPaint: {
        var ctx = getContext("2d")
        ctx.reset()
        var w = width, h = height
        var pw = w * 0.36, ph = h * 0.62, px = (w - pw) / 2, py = h * 0.04
        if (kind === "restart") {
            ctx.lineWidth = w * 0.07
            ctx.strokeStyle = Theme.primary
            ctx.beginPath()
            ctx.arc(w / 2, h / 2, w * 0.32, 0.3, Math.PI * 1.7)
            ctx.stroke()
            ctx.fillStyle = Theme.primary
            ctx.beginPath()
            var ex = w / 2 + w * 0.32 * Math.cos(Math.PI * 1.7), ey = h / 2 + w * 0.32 * Math.sin(Math.PI * 1.7)
            ctx.moveTo(ex - w * 0.12, ey - w * 0.02)
            ctx.lineTo(ex + w * 0.1, ey - w * 0.1)
            ctx.lineTo(ex + w * 0.04, ey + w * 0.12)
            ctx.closePath()
            ctx.fill()
            return
        }
        phone(ctx, px, py, pw, ph)
        var cx = w / 2
        if (kind === "plug") {
            cable(ctx, cx, py + ph, h * 0.08)
            arrow(ctx, cx + pw * 0.9, py + ph + h * 0.25, h * 0.2, true, Theme.primary)
        } else if (kind === "unplug" || kind === "removed") {
            cable(ctx, cx, py + ph, h * 0.14)
            arrow(ctx, cx + pw * 0.9, py + ph, h * 0.2, false, kind === "removed" ? Theme.danger : Theme.primary)
        } else {
            cable(ctx, cx, py + ph, 0)
        }
        if (kind === "allow") {
            ctx.fillStyle = "#ffffff"
            ctx.strokeStyle = "#111111"
            ctx.lineWidth = 3
            ctx.fillRect(px + pw * 0.16, py + ph * 0.3, pw * 0.68, ph * 0.35)
            ctx.strokeRect(px + pw * 0.16, py + ph * 0.3, pw * 0.68, ph * 0.35)
            ctx.fillStyle = Theme.success
            ctx.fillRect(px + pw * 0.5, py + ph * 0.52, pw * 0.28, ph * 0.09)
            ctx.fillStyle = "#111111"
            ctx.fillRect(px + pw * 0.24, py + ph * 0.37, pw * 0.5, ph * 0.03)
            ctx.fillRect(px + pw * 0.24, py + ph * 0.43, pw * 0.4, ph * 0.03)
            // a fingertip on Allow
            ctx.strokeStyle = Theme.primary
            ctx.lineWidth = Math.max(4, w * 0.025)
            ctx.beginPath()
            ctx.arc(px + pw * 0.64, py + ph * 0.7, pw * 0.11, 0, Math.PI * 2)
            ctx.stroke()
        } else if (kind === "trust") {
            // the question, then Trust and Don't Trust side by side; a fingertip on Trust
            ctx.fillStyle = "#ffffff"
            ctx.strokeStyle = "#111111"
            ctx.lineWidth = 3
            ctx.fillRect(px + pw * 0.12, py + ph * 0.28, pw * 0.76, ph * 0.4)
            ctx.strokeRect(px + pw * 0.12, py + ph * 0.28, pw * 0.76, ph * 0.4)
            ctx.fillStyle = "#111111"
            ctx.fillRect(px + pw * 0.22, py + ph * 0.34, pw * 0.56, ph * 0.03)
            ctx.fillRect(px + pw * 0.3, py + ph * 0.4, pw * 0.4, ph * 0.03)
            ctx.beginPath()
            ctx.moveTo(px + pw * 0.12, py + ph * 0.5)
            ctx.lineTo(px + pw * 0.88, py + ph * 0.5)
            ctx.moveTo(px + pw * 0.5, py + ph * 0.5)
            ctx.lineTo(px + pw * 0.5, py + ph * 0.68)
            ctx.stroke()
            ctx.fillStyle = Theme.success
            ctx.fillRect(px + pw * 0.17, py + ph * 0.56, pw * 0.28, ph * 0.07)
            ctx.fillStyle = "#9aa3b0"
            ctx.fillRect(px + pw * 0.55, py + ph * 0.56, pw * 0.28, ph * 0.07)
            ctx.strokeStyle = Theme.primary
            ctx.lineWidth = Math.max(4, w * 0.025)
            ctx.beginPath()
            ctx.arc(px + pw * 0.31, py + ph * 0.63, pw * 0.09, 0, Math.PI * 2)
            ctx.stroke()
        } else if (kind === "locked") {
            // a padlock: its shackle, then its body
            ctx.strokeStyle = "#111111"
            ctx.lineWidth = w * 0.035
            ctx.beginPath()
            ctx.arc(px + pw / 2, py + ph * 0.4, pw * 0.17, Math.PI, 0)
            ctx.lineTo(px + pw * 0.67, py + ph * 0.47)
            ctx.moveTo(px + pw * 0.33, py + ph * 0.4)
            ctx.lineTo(px + pw * 0.33, py + ph * 0.47)
            ctx.stroke()
            ctx.fillStyle = Theme.primary
            ctx.fillRect(px + pw * 0.24, py + ph * 0.46, pw * 0.52, ph * 0.26)
            ctx.fillStyle = "#ffffff"
            ctx.beginPath()
            ctx.arc(px + pw / 2, py + ph * 0.56, pw * 0.05, 0, Math.PI * 2)
            ctx.fill()
            ctx.fillRect(px + pw * 0.48, py + ph * 0.56, pw * 0.04, ph * 0.09)
        } else if (kind === "ready") {
            ctx.strokeStyle = Theme.success
            ctx.lineWidth = w * 0.06
            ctx.beginPath()
            ctx.moveTo(px + pw * 0.22, py + ph * 0.48)
            ctx.lineTo(px + pw * 0.42, py + ph * 0.66)
            ctx.lineTo(px + pw * 0.8, py + ph * 0.26)
            ctx.stroke()
        } else if (kind === "unsupported" || kind === "removed") {
            ctx.strokeStyle = Theme.danger
            ctx.lineWidth = w * 0.05
            ctx.beginPath()
            ctx.moveTo(px + pw * 0.25, py + ph * 0.25)
            ctx.lineTo(px + pw * 0.75, py + ph * 0.7)
            ctx.moveTo(px + pw * 0.75, py + ph * 0.25)
            ctx.lineTo(px + pw * 0.25, py + ph * 0.7)
            ctx.stroke()
        } else if (kind === "debugging") {
            // a settings cog with a switch turned off
            ctx.strokeStyle = "#111111"
            ctx.lineWidth = w * 0.03
            ctx.beginPath()
            ctx.arc(px + pw / 2, py + ph * 0.35, pw * 0.16, 0, Math.PI * 2)
            ctx.stroke()
            for (var i = 0; i < 8; ++i) {
                var a = i * Math.PI / 4
                ctx.beginPath()
                ctx.moveTo(px + pw / 2 + Math.cos(a) * pw * 0.16, py + ph * 0.35 + Math.sin(a) * pw * 0.16)
                ctx.lineTo(px + pw / 2 + Math.cos(a) * pw * 0.25, py + ph * 0.35 + Math.sin(a) * pw * 0.25)
                ctx.stroke()
            }
            ctx.fillStyle = Theme.danger
            ctx.fillRect(px + pw * 0.25, py + ph * 0.6, pw * 0.5, ph * 0.1)
            ctx.fillStyle = "#ffffff"
            ctx.fillRect(px + pw * 0.28, py + ph * 0.615, pw * 0.18, ph * 0.07)
        }
    }
}
