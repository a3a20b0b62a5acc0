// One of a few exclusive choices, as a large toggle.
import QtQuick

Rectangle {
    id: choice
    property string text: ""
    property bool checked: false
    signal clicked()
    implicitHeight: Theme.target
    implicitWidth: label.implicitWidth + Theme.px(110)
    radius: Theme.radius
    color: checked ? Theme.primary : "#ffffff"
    border.width: Theme.px(4)
    border.color: Theme.primary
    Accessible.role: Accessible.RadioButton
    Accessible.name: text
    Accessible.checked: checked
    Text {
        id: label
        anchors.centerIn: parent
        font.family: Theme.family
        font.pixelSize: Theme.fontLarge
        font.bold: true
        color: choice.checked ? Theme.primaryText : Theme.primary
        text: (choice.checked ? "✔ " : "") + choice.text
    }
    TapHandler { onTapped: choice.clicked() }
}
