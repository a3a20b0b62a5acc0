// A labelled text field for the on-screen keyboard, with the reason beside it when the value
// is not acceptable.
import QtQuick
import QtQuick.Controls.Basic

Column {
    id: entry
    property alias label: title.text
    property alias text: field.text
    property alias field: field
    property string error: ""
    property bool showError: false
    property int inputHints: Qt.ImhNone
    spacing: Theme.px(10)

    Text {
        id: title
        font.family: Theme.family
        font.pixelSize: Theme.fontBody
        font.bold: true
        color: Theme.text
    }
    Row {
        spacing: Theme.gap
        width: parent.width
        TextField {
            id: field
            objectName: entry.objectName + "_input"
            width: parent.width * 0.6
            height: Theme.target
            font.family: Theme.family
            font.pixelSize: Theme.fontLarge
            color: Theme.text
            inputMethodHints: entry.inputHints | Qt.ImhNoPredictiveText
            maximumLength: 256
            // Enter on the keyboard: done with this field, the keyboard goes away.
            onAccepted: { Qt.inputMethod.hide(); focus = false }
            background: Rectangle {
                color: "#ffffff"
                radius: Theme.radius
                border.width: field.activeFocus ? Theme.px(6) : Theme.px(3)
                border.color: field.activeFocus ? Theme.primary
                              : (entry.showError && entry.error.length > 0 ? Theme.danger : Theme.border)
            }
        }
        ErrorLine {
            width: parent.width * 0.4 - Theme.gap
            anchors.verticalCenter: field.verticalCenter
            text: entry.showError ? entry.error : ""
        }
    }
}
