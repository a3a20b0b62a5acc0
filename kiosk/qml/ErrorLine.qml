// A reason or an error, in words, on a tinted background; hidden when empty.
import QtQuick

Rectangle {
    id: box
    property alias text: line.text
    property bool warning: false
    visible: text.length > 0
    color: warning ? Theme.warningBg : Theme.errorBg
    border.color: warning ? "#8a6d00" : Theme.danger
    border.width: Theme.px(3)
    radius: Theme.radius
    implicitHeight: visible ? line.implicitHeight + Theme.px(30) : 0
    Text {
        id: line
        anchors.fill: parent
        anchors.margins: Theme.px(15)
        verticalAlignment: Text.AlignVCenter
        font.family: Theme.family
        font.pixelSize: Theme.fontSmall
        font.bold: true
        color: box.warning ? "#3d2f00" : Theme.danger
        wrapMode: Text.WordWrap
    }
}
