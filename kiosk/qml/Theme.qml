// Colours, sizes and fonts of every screen: high contrast, readable at arm's length, every
// touch target at least 48 px. `scale` follows the window (1.0 at 1920x1080).
pragma Singleton
import QtQuick

QtObject {
    property real scale: 1.0
    function px(v) { return Math.round(v * scale) }

    readonly property color background: "#ffffff"
    readonly property color panel: "#eef1f5"
    readonly property color text: "#111111"
    readonly property color muted: "#3a3a3a"
    readonly property color primary: "#0b3d91"       // 10.6:1 with white
    readonly property color primaryText: "#ffffff"
    readonly property color secondary: "#ffffff"
    readonly property color border: "#1f2a38"
    readonly property color danger: "#a4001d"        // 8.2:1 with white
    readonly property color success: "#1b5e20"
    readonly property color warningBg: "#fff1c2"
    readonly property color errorBg: "#fde4e4"
    readonly property color disabled: "#8a8f96"
    readonly property color focus: "#ffb000"

    readonly property string family: "DejaVu Sans"
    readonly property int fontHuge: px(64)
    readonly property int fontTitle: px(46)
    readonly property int fontLarge: px(38)
    readonly property int fontBody: Math.max(24, px(32))
    readonly property int fontSmall: Math.max(20, px(26))

    readonly property int target: Math.max(48, px(104))   // button height
    readonly property int gap: px(28)
    readonly property int radius: px(14)
}
