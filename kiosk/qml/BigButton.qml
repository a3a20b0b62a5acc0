// A large touch button: at least 48 px high, strong colours, a clear disabled look.
import QtQuick

Rectangle {
    id: button
    property alias text: label.text
    property bool primary: true
    property bool danger: false
    property bool enabled_: true
    property int fontSize: Theme.fontLarge
    signal clicked()

    implicitHeight: Theme.target
    implicitWidth: Math.max(Theme.px(300), label.implicitWidth + Theme.px(80))
    radius: Theme.radius
    color: !enabled_ ? "#d7dadf"
           : danger ? Theme.danger
           : primary ? (area.pressed ? "#072a66" : Theme.primary)
           : (area.pressed ? "#dfe6f2" : Theme.secondary)
    border.width: primary && !danger ? 0 : Theme.px(4)
    border.color: !enabled_ ? Theme.disabled : danger ? Theme.danger : Theme.primary
    Accessible.role: Accessible.Button
    Accessible.name: text

    Text {
        id: label
        anchors.centerIn: parent
        width: parent.width - Theme.px(30)
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.WordWrap
        font.family: Theme.family
        font.pixelSize: button.fontSize
        font.bold: true
        color: !button.enabled_ ? "#55595f" : (button.primary || button.danger) ? Theme.primaryText : Theme.primary
    }
    // TapHandler, not MouseArea: every tap counts, also two quick taps on the same key.
    TapHandler {
        id: area
        enabled: button.enabled_
        onTapped: button.clicked()
    }
}
