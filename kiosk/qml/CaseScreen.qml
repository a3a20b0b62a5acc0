// 3. Case: case and exhibit references (on-screen keyboard), whose phone it is.
import QtQuick

Item {
    id: root
    objectName: "screen_case"
    readonly property var record: kiosk.record

    Flickable {
        id: flick
        anchors { left: parent.left; right: parent.right; top: parent.top; bottom: nav.top; bottomMargin: Theme.gap }
        contentHeight: form.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds
        function show(item) {
            var p = item.mapToItem(form, 0, 0)
            if (p.y + item.height > contentY + height)
                contentY = Math.min(p.y + item.height - height, contentHeight - height)
            else if (p.y < contentY)
                contentY = p.y
        }
        Column {
            id: form
            width: flick.width
            spacing: Theme.gap
            TextEntry {
                id: caseField
                objectName: "caseField"
                width: parent.width
                label: qsTr("Case reference")
                text: root.record.caseReference
                error: root.record.caseError
                showError: root.record.showErrors || text.length > 0
                field.onTextChanged: root.record.caseReference = field.text
                field.onActiveFocusChanged: if (field.activeFocus) flick.show(caseField)
            }
            TextEntry {
                id: exhibitField
                objectName: "exhibitField"
                width: parent.width
                label: qsTr("Exhibit reference")
                text: root.record.exhibitReference
                error: root.record.exhibitError
                showError: root.record.showErrors || text.length > 0
                field.onTextChanged: root.record.exhibitReference = field.text
                field.onActiveFocusChanged: if (field.activeFocus) flick.show(exhibitField)
            }
            Text {
                font.family: Theme.family
                font.pixelSize: Theme.fontBody
                font.bold: true
                color: Theme.text
                text: qsTr("Whose phone is it?")
            }
            Row {
                spacing: Theme.gap
                Repeater {
                    model: [
                        { value: "victim", label: qsTr("Victim") },
                        { value: "witness", label: qsTr("Witness") },
                        { value: "other", label: qsTr("Someone else") }
                    ]
                    delegate: Choice {
                        objectName: "owner_" + modelData.value
                        width: Theme.px(380)
                        text: modelData.label
                        checked: root.record.owner === modelData.value
                        onClicked: { root.forceActiveFocus(); root.record.owner = modelData.value }
                    }
                }
            }
            ErrorLine {
                width: parent.width * 0.6
                text: root.record.showErrors ? root.record.ownerError : ""
            }
        }
    }
    NavBar {
        id: nav
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        showBack: false
        onNext: { root.forceActiveFocus(); kiosk.next() }
    }
}
